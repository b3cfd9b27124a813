"""Chunking of the real corpus and of small hand-made documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csto_qa.chunking import ChunkParams, chunk_corpus, chunk_document
from csto_qa.errors import CstoQaError
from csto_qa.ingest import load_corpus
from csto_qa.records import Document


@pytest.fixture(scope="module")
def real(corpus_dir: Path):
    loaded = load_corpus(corpus_dir)
    sentences, chunks = chunk_corpus(loaded.documents)
    return {d.doc_id: d for d in loaded.documents}, sentences, chunks


def test_every_chunk_reproduces_its_document_span(real) -> None:
    docs, _, chunks = real
    assert {c.doc_id for c in chunks} == set(docs)
    for chunk in chunks:
        assert docs[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_chunk_ids_are_dense_and_sentences_cover_each_chunk(real) -> None:
    docs, sentences, chunks = real
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        first, last = chunk.sentences
        assert sentences[first].start == chunk.start and sentences[last - 1].end == chunk.end
        assert all(sentences[i].doc_id == chunk.doc_id for i in range(first, last))


def test_passages_have_readable_sizes(real) -> None:
    _, _, chunks = real
    sizes = [len(c.text.split()) for c in chunks]
    assert max(sizes) <= 200
    in_range = sum(1 for n in sizes if 30 <= n <= 160)
    assert in_range / len(sizes) >= 0.8, sorted(sizes)


def test_passages_never_start_or_end_inside_a_sentence(real) -> None:
    docs, _, chunks = real
    for chunk in chunks:
        text = docs[chunk.doc_id].text
        before = text[: chunk.start].rstrip()
        # A passage starts after a sentence end, a line break or at the document start.
        assert (
            chunk.start == 0
            or text[chunk.start - 1] == "\n"
            or before.endswith((".", "!", "?", '"', "”", ")", "]", "…", "’"))
        ), text[chunk.start - 40 : chunk.start + 40]


def test_sections_are_tracked_where_the_document_has_headings(real) -> None:
    _, _, chunks = real
    sections = {c.section for c in chunks if c.doc_id == "csto-wikipedia-sections"}
    assert "Peacekeeping force" in sections
    assert any(s.startswith("History") for s in sections)
    kids = {c.section for c in chunks if c.doc_id == "csto-facts-for-kids"}
    assert "CSTO Secretary General" in kids
    uzbek = next(
        c for c in chunks if "28 June 2012, Uzbekistan suspended" in c.text and c.doc_id.endswith("sections")
    )
    assert uzbek.section == "2005 and later"


def test_reference_tail_of_the_flat_wikipedia_text_is_not_indexed(real) -> None:
    docs, _, chunks = real
    wiki = [c for c in chunks if c.doc_id == "csto-wikipedia"]
    assert "Archived from the original" in docs["csto-wikipedia"].text
    assert not any("Archived from the original" in c.text for c in wiki)
    # ... but the article body right before it is.
    assert any("Cyber Shield" in c.text for c in wiki)


def test_unicode_scripts_survive_ingestion_and_chunking(real) -> None:
    _, _, chunks = real
    joined = "\n".join(c.text for c in chunks)
    assert "Коллекти́вные си́лы" in joined  # Cyrillic with combining acute accents
    assert "Հավաքական" in joined  # Armenian
    assert "კოლექტიური" in joined  # Georgian


def test_table_rules_and_image_stubs_do_not_become_passages(real) -> None:
    _, _, chunks = real
    for chunk in chunks:
        assert re.search(r"[^\W\d_]{3}", chunk.text), chunk.text


def _doc(text: str) -> Document:
    return Document("d", "D", text)


def test_long_text_is_split_at_sentence_boundaries_with_overlap() -> None:
    sentence = "The alliance held an exercise with many troops in the region that year. "
    doc = _doc(sentence * 40)
    sentences, chunks = chunk_document(doc, ChunkParams(target_words=40, max_words=60, min_words=10))
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # one sentence of overlap
        assert a.text.endswith(".") and b.text.startswith("The")


def test_a_run_on_line_without_punctuation_is_cut_at_word_boundaries() -> None:
    doc = _doc(" ".join(f"word{i}" for i in range(1000)))
    _, chunks = chunk_document(doc, ChunkParams())
    assert all(len(c.text.split()) <= ChunkParams().max_words for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_headings_split_passages_and_name_their_section() -> None:
    text = (
        "Guide\nHistory\n"
        "The treaty was signed in 1992 by six states of the region, all of them post-Soviet.\n"
        "Members\nSix states are members today and they meet every year in one of the capitals.\n"
    )
    _, chunks = chunk_document(_doc(text))
    assert [c.section for c in chunks] == ["History", "Members"]


def test_empty_and_markup_only_documents_give_no_passages() -> None:
    assert chunk_document(_doc(""))[1] == []
    assert chunk_document(_doc("|\n---|---|\n![]() |\n"))[1] == []


def test_bad_parameters_are_refused_with_the_value() -> None:
    with pytest.raises(CstoQaError, match="target_words=5"):
        ChunkParams(target_words=5)
