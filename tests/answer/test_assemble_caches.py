"""The answer builder's per-passage and per-highlight feature caches: what they hold equals
what is computed from the text, they stay bounded, and a warm builder answers exactly as a
cold one (the caches change the time, never the answer). Some questions are misspelt, so
that the kept typo verdicts are exercised too."""

from __future__ import annotations

import pytest
from fakes import FakeEncoder, write_tiny_corpus

from csto_qa.answer.answer_type import TYPED
from csto_qa.answer.assemble import AnswerBuilder
from csto_qa.answer.features import Bounded
from csto_qa.answer.phrase import pick_phrase
from csto_qa.engine import Engine
from csto_qa.index.storage import StoredIndex
from csto_qa.retrieval.tokenizing import stem, words

QUESTIONS = [
    "When was the CSTO founded?",
    "Who froze its participation?",
    "Where are the headquarters?",
    "When did Uzbekistan suspend its membership?",
    "What did the organization send to Kazakhstan?",
    "When did Uzbekistn suspend its membershp?",  # misspelt: found as near spellings
    "How many peacekeepers did the organisation send to Kazakstan?",
    "Which countries signed the treaty in Tashkent?",
    "What is the annual budget of the secretariat?",  # words no passage has
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> StoredIndex:
    from csto_qa.index.build import build, quiet
    from csto_qa.index.storage import load_index

    root = tmp_path_factory.mktemp("features")
    build(write_tiny_corpus(root / "corpus"), root / "index", FakeEncoder(), report=quiet, progress=False)
    return load_index(root / "index")


def test_bounded_cache_forgets_its_oldest_entry() -> None:
    cache: Bounded[str, int] = Bounded(2)
    assert cache.put("a", 1) == 1
    cache.put("b", 2)
    cache.put("c", 3)
    assert dict(cache) == {"b": 2, "c": 3}


def test_folded_words_are_those_of_the_text() -> None:
    builder = AnswerBuilder.__new__(AnswerBuilder)  # the cache needs no index
    builder._folded = Bounded(1)
    assert builder.folded_words("The CSTO's Headquarters, in Moscow.") == "csto headquarters moscow"
    assert builder.folded_words("Коллективной БЕЗОПАСНОСТИ") == "коллективнои безопасности"  # й folded
    assert len(builder._folded) == 1


def test_a_warm_builder_answers_as_a_cold_one(stored: StoredIndex) -> None:
    warm = Engine(stored, FakeEncoder())
    for _ in range(2):  # fill the caches, then ask again
        answers = {
            (q, m): warm.ask(q, mode=m).to_dict() for q in QUESTIONS for m in ("hybrid", "bm25", "dense")
        }
    for (question, mode), answer in answers.items():
        assert Engine(stored, FakeEncoder()).ask(question, mode=mode).to_dict() == answer


def test_an_evicting_cache_changes_no_answer(stored: StoredIndex) -> None:
    engine = Engine(stored, FakeEncoder())
    builder = engine.builder
    evidence = builder.evidence
    builder._folded, builder._sentence_features, builder._phrases = Bounded(1), Bounded(1), Bounded(1)
    evidence._chunk_terms, evidence._typos = Bounded(1), Bounded(1)
    evidence._passage_phrases, evidence._unknown = Bounded(1), Bounded(1)
    for question in QUESTIONS:
        assert engine.ask(question).to_dict() == Engine(stored, FakeEncoder()).ask(question).to_dict()


def _reference_best(builder: AnswerBuilder, chunk, vector, focus) -> tuple[int, float, float, bool, bool]:  # noqa: ANN001
    """The lead-sentence scorer as written before its features were kept: every feature
    recomputed from the sentence's text with answer_type's and focus' own functions."""
    import math

    import numpy as np

    from csto_qa.answer import assemble
    from csto_qa.answer.answer_type import (
        AnswerType,
        continues,
        defines,
        field_key,
        find_phrases,
        prose_penalty,
    )
    from csto_qa.answer.focus import coverage
    from csto_qa.retrieval.tokenizing import fold

    first, last = chunk.sentences
    if last <= first:
        return -1, 0.0, -math.inf, False, False
    cosines = builder.stored.sentence_vectors[first:last].astype(np.float32) @ vector
    asked = {fold(w) for w in focus.words}
    best, best_score, best_typed, best_joined = first, -math.inf, False, False
    before_cos, before_covered, before_weak = 0.0, 0.0, False
    for offset, sid in enumerate(range(first, last)):
        text = builder.sentence_text(sid)
        if focus.kind is AnswerType.DEFINITION:
            typed = defines(text, asked)
        elif focus.kind in TYPED:
            typed = pick_phrase(text, focus.kind, focus) is not None
        else:
            typed = focus.kind is AnswerType.REASON and bool(find_phrases(text, focus.kind))
        own = frozenset(stem(w) for w in words(text))
        covered = coverage(focus, own & focus.terms.keys())
        total = sum(t.idf for t in focus.terms.values())
        if 0 < total < assemble.COVERAGE_FLOOR:  # the share of at least COVERAGE_FLOOR
            covered *= total / assemble.COVERAGE_FLOOR
        novelty = len(own - focus.terms.keys()) / len(own) if own else 0.0
        cos = own_cos = float(cosines[offset])
        own_covered = covered
        joined = False
        if offset and continues(text) and before_weak:
            # It leans on the sentence before when that one's cosine or coverage is what counts.
            weight = assemble.CONTEXT_WEIGHT
            joined = weight * before_cos > cos or weight * before_covered > covered
            cos = max(cos, assemble.CONTEXT_WEIGHT * before_cos)
            covered = max(covered, assemble.CONTEXT_WEIGHT * before_covered)
        before_cos, before_covered, before_weak = own_cos, own_covered, novelty < assemble.RESTATES
        key = frozenset(stem(w) for w in words(field_key(text) or ""))
        asked_field = bool(key) and key <= focus.terms.keys()
        score = assemble.sentence_score(cos, covered, typed or asked_field, prose_penalty(text), novelty)
        if score > best_score:
            best, best_score, best_typed, best_joined = sid, score, typed, joined
    return best, float(cosines[best - first]), best_score, best_typed, best_joined


def test_the_best_sentence_is_the_one_the_features_recomputed_give(stored: StoredIndex) -> None:
    from csto_qa.answer.assemble import COVERAGE_FLOOR
    from csto_qa.answer.features import Asked

    builder, encoder = AnswerBuilder(stored), FakeEncoder()
    questions = [*QUESTIONS, "What is the Collective Rapid Reaction Force?", "Why did Armenia freeze it?"]
    kinds = set()
    for _ in range(2):  # computed, then from the kept records
        for question in questions:
            focus, vector = builder.focus(question), encoder.encode_query(question)
            kinds.add(focus.kind)
            for chunk in stored.chunks:
                expected = _reference_best(builder, chunk, vector, focus)
                asked = Asked.of(focus, floor=COVERAGE_FLOOR)
                assert builder._best_sentence(chunk, vector, asked) == expected, question
    assert len(kinds) >= 5  # dates, names, places, countries, definitions, reasons...
