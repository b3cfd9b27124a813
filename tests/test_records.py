"""The records (records.py): JSON round trips, tolerant reading of older or newer files, and
the page arithmetic of citations, by hand."""

from __future__ import annotations

import json

import pytest
from fakes import sample_answer, sample_passage

from csto_qa.records import Answer, Chunk, Document, Passage, Sentence, page_span


def test_every_record_survives_a_json_round_trip() -> None:
    doc = Document("d", "Title", "One. Two.", path="d.pdf", pages=(0, 5))
    sentence = Sentence("d", 0, 4)
    chunk = Chunk(3, "d", "Title", "History", 0, 9, "One. Two.", sentences=(0, 2))
    for record in (doc, sentence, chunk, sample_passage()):
        assert type(record).from_dict(json.loads(json.dumps(record.to_dict()))) == record
    answer = sample_answer(answer="here", answer_start=1, answer_end=5, answer_doc="doc-a")
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))).to_dict() == answer.to_dict()


def test_unknown_keys_are_ignored_and_bad_pages_dropped() -> None:
    data = {"doc_id": "d", "title": "T", "text": "x", "added_by_a_newer_version": 1}
    assert Document.from_dict(data) == Document("d", "T", "x")
    assert Document.from_dict({**data, "pages": [0, "5"]}).pages == ()  # not whole numbers
    assert Document.from_dict({**data, "pages": [5, 0]}).pages == ()  # not in order
    assert Document.from_dict({**data, "pages": [0, 5]}).pages == (0, 5)


def test_chunk_index_text_adds_the_section_and_prefers_the_display() -> None:
    chunk = Chunk(0, "d", "T", "History", 0, 7, "A | B", display="A: B")
    assert chunk.readable == "A: B" and chunk.index_text == "History. A: B"
    assert Chunk(0, "d", "T", "", 0, 3, "abc").index_text == "abc"


@pytest.mark.parametrize(
    ("pages", "start", "end", "expected"),
    [
        ((), 0, 10, (None, None)),
        ((0, 100), 120, 130, (2, 2)),
        ((0, 100), 90, 130, (1, 2)),
        ((0, 100), 90, 100, (1, 1)),  # ends exactly where page 2 starts: page 1 only
        ((0, 100, 200), 250, 250, (3, 3)),  # an empty span at an offset
    ],
)
def test_page_span_by_hand(pages: tuple[int, ...], start: int, end: int, expected: tuple) -> None:
    span = page_span(pages, start, end)
    assert (span["page_start"], span["page_end"]) == expected


def test_a_passage_labels_its_pages() -> None:
    assert sample_passage().page_label == ""
    assert sample_passage(page_start=4, page_end=4).page_label == "page 4"
    assert sample_passage(page_start=4, page_end=5).page_label == "pages 4–5"
    assert isinstance(sample_passage(), Passage)
