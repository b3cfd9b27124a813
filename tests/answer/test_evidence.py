"""The evidence reader (csto_qa/answer/evidence.py): what its kept per-passage features hold
equals what is computed from the passage text, misspelt questions included (the kept typo
verdicts). The support it weighs is tested through the decline rule (test_decline.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csto_qa.answer.answer_type import TYPED
from csto_qa.answer.evidence import EvidenceReader, corpus_idf
from csto_qa.answer.focus import Focus, present_terms, question_focus
from csto_qa.answer.phrase import pick_phrase
from csto_qa.index.storage import StoredIndex
from csto_qa.retrieval.tokenizing import stem, words
from tests.answer.test_assemble_caches import QUESTIONS


@pytest.fixture(scope="module")
def stored(tiny_index: Path) -> StoredIndex:
    from csto_qa.index.storage import load_index

    return load_index(tiny_index)


def reader(stored: StoredIndex) -> EvidenceReader:
    return EvidenceReader(stored, *corpus_idf(stored))


def focus_of(stored: StoredIndex, question: str) -> Focus:
    return question_focus(question, corpus_idf(stored)[0], max(stored.bm25.n_docs, 1))


def test_passage_stems_are_the_stems_of_its_index_text(stored: StoredIndex) -> None:
    evidence = reader(stored)
    for chunk in stored.chunks:
        expected = {stem(w) for w in words(chunk.index_text)}
        assert evidence.chunk_stems(chunk.chunk_id) == expected
        assert evidence.chunk_stems(chunk.chunk_id) is evidence.chunk_stems(chunk.chunk_id)  # kept


def test_present_focus_terms_are_those_of_the_passage_text(stored: StoredIndex) -> None:
    evidence = reader(stored)
    for _ in range(2):  # computed, then from the kept terms and verdicts
        for question in QUESTIONS:
            focus = focus_of(stored, question)
            for chunk in stored.chunks:
                expected = present_terms(focus, chunk.index_text)
                assert evidence.present(chunk.chunk_id, focus) == expected, (question, chunk.chunk_id)
    misspelt = focus_of(stored, "When did Uzbekistn suspend its membershp?")
    assert any({"uzbekistn", "membershp"} <= evidence.present(c.chunk_id, misspelt) for c in stored.chunks)
    assert any(evidence._typos.values())  # found as near spellings, and kept


def test_a_passage_holds_the_type_when_pick_phrase_finds_a_phrase_in_it(stored: StoredIndex) -> None:
    evidence = reader(stored)
    checked = 0
    for _ in range(2):
        for question in QUESTIONS:
            focus = focus_of(stored, question)
            for kind in TYPED:  # every typed kind, whatever the question's form asks for
                typed = type(focus)(kind, focus.terms, focus.head)
                for chunk in stored.chunks:
                    expected = pick_phrase(chunk.index_text, kind, typed) is not None
                    assert evidence.holds_type(chunk.chunk_id, typed) == expected, (question, kind)
                    checked += expected
    assert checked  # some passages do hold a phrase of some kind


def test_english_frequency_orders_everyday_words_above_rare_ones() -> None:
    from csto_qa.answer.evidence import english_zipf

    # wordfreq's Zipf scale: everyday words near 5-6, the words a probe names lower.
    assert english_zipf("good") > english_zipf("moment") > english_zipf("salary") > english_zipf("motto")
    assert english_zipf("moment") >= 5.0 > english_zipf("budget")
    assert english_zipf("xqzvtb") == 0.0  # a word it does not list
