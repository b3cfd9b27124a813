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
from csto_qa.answer.focus import present_terms
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


def test_passage_stems_are_the_stems_of_its_index_text(stored: StoredIndex) -> None:
    builder = AnswerBuilder(stored)
    for chunk in stored.chunks:
        expected = {stem(w) for w in words(chunk.index_text)}
        assert builder.chunk_stems(chunk.chunk_id) == expected
        assert builder.chunk_stems(chunk.chunk_id) is builder.chunk_stems(chunk.chunk_id)  # kept


def test_folded_words_are_those_of_the_text() -> None:
    builder = AnswerBuilder.__new__(AnswerBuilder)  # the cache needs no index
    builder._folded = Bounded(1)
    assert builder.folded_words("The CSTO's Headquarters, in Moscow.") == "csto headquarters moscow"
    assert builder.folded_words("Коллективной БЕЗОПАСНОСТИ") == "коллективнои безопасности"  # й folded
    assert len(builder._folded) == 1


def test_present_focus_terms_are_those_of_the_passage_text(stored: StoredIndex) -> None:
    builder = AnswerBuilder(stored)
    for _ in range(2):  # computed, then from the kept terms and verdicts
        for question in QUESTIONS:
            focus = builder.focus(question)
            for chunk in stored.chunks:
                expected = present_terms(focus, chunk.index_text)
                assert builder.present(chunk.chunk_id, focus) == expected, (question, chunk.chunk_id)
    misspelt = builder.focus("When did Uzbekistn suspend its membershp?")
    assert any({"uzbekistn", "membershp"} <= builder.present(c.chunk_id, misspelt) for c in stored.chunks)
    assert any(builder._typos.values())  # found as near spellings, and kept


def test_a_passage_holds_the_type_when_pick_phrase_finds_a_phrase_in_it(stored: StoredIndex) -> None:
    builder = AnswerBuilder(stored)
    checked = 0
    for _ in range(2):
        for question in QUESTIONS:
            focus = builder.focus(question)
            for kind in TYPED:  # every typed kind, whatever the question's form asks for
                typed = type(focus)(kind, focus.terms, focus.head)
                for chunk in stored.chunks:
                    expected = pick_phrase(chunk.index_text, kind, typed) is not None
                    assert builder.holds_type(chunk.chunk_id, typed) == expected, (question, kind)
                    checked += expected
    assert checked  # some passages do hold a phrase of some kind


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
    builder._chunk_terms, builder._folded, builder._typos = Bounded(1), Bounded(1), Bounded(1)
    builder._passage_phrases, builder._unknown = Bounded(1), Bounded(1)
    builder._sentence_features = Bounded(1)
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
                assert builder._best_sentence(chunk, vector, Asked.of(focus)) == expected, question
    assert len(kinds) >= 5  # dates, names, places, countries, definitions, reasons...
