"""The answer builder's per-passage and per-highlight feature caches: what they hold equals
what is computed from the text, they stay bounded, and a warm builder answers exactly as a
cold one (the caches change the time, never the answer). Some questions are misspelt, so
that the kept typo verdicts are exercised too."""

from __future__ import annotations

import pytest
from fakes import FakeEncoder, write_tiny_corpus

from csto_qa.answer.answer_type import TYPED
from csto_qa.answer.assemble import AnswerBuilder, pick_phrase
from csto_qa.answer.features import Bounded
from csto_qa.answer.focus import present_terms
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
