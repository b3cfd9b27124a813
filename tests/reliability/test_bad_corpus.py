"""Bad corpus files: each one is indexed, or skipped with a warning that names it and says why;
indexing never dies on one bad file. No real model: a fake encoder with the Encoder interface
keeps these tests fast (retrieval quality is not what they check)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakes import FakeEncoder, open_with_messages

from csto_qa.engine import EMPTY_CORPUS
from csto_qa.errors import CorpusError, QueryError
from csto_qa.index.build import build, quiet
from csto_qa.index.storage import load_index
from csto_qa.ingest import corpus as ingest
from csto_qa.ingest.chunking import chunk_corpus
from csto_qa.ingest.corpus import corpus_fingerprint, load_corpus

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (ROOT / "corpus" / "csto-wikipedia-sections.txt").read_text(encoding="utf-8")


# --- empty and missing corpus ------------------------------------------------------------------


def test_empty_corpus_builds_an_empty_index_and_the_engine_says_so(tmp_path: Path, fake_model) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    engine, messages = open_with_messages(tmp_path, corpus)
    assert any("holds no documents" in m and str(corpus) in m for m in messages)
    assert engine.stored.chunks == [] and engine.stored.documents == {}
    answer = engine.ask("When was the CSTO founded?")
    assert answer.abstained and answer.message == EMPTY_CORPUS and answer.passages == []
    with pytest.raises(QueryError):
        engine.document("csto-wikipedia")


def test_missing_corpus_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere.*does not exist"):
        build(tmp_path / "nowhere", tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    assert not (tmp_path / "index").exists()


# --- one bad file never stops the others -------------------------------------------------------

NON_UTF8_NAME = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 file name, not valid UTF-8
BAD_FILES = {
    "latin1.txt": ("Café in Genève: a naïve résumé of the treaty.".encode("latin-1"), "not UTF-8"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    "zero.txt": (b"", "empty"),
    "blank.md": (b"  \n\t\r\n  ", "empty"),
    "bom-only.txt": (b"\xef\xbb\xbf", "empty"),
    NON_UTF8_NAME: (b"Readable text with an unreadable file name.", "not valid UTF-8"),
    "notes.pdf": (b"%PDF-1.4 a PDF header and nothing after it", "not a readable PDF"),
}
GOOD_FILES = {
    "good.txt": "The CSTO was founded in 2002.\nIts members hold yearly exercises called Rubezh.",
    "name with spaces.txt": "A file name with spaces.\nThe secretariat sits in Moscow.",
    "Договор ОДКБ.txt": "Договор о коллективной безопасности подписан в Ташкенте 15 мая 1992 года.",
    "utf16.txt": "Saved by a Windows editor as UTF-16: the peacekeepers went to Kazakhstan.",
}


@pytest.fixture()
def messy_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in GOOD_FILES.items():
        encoding = "utf-16" if name == "utf16.txt" else "utf-8"  # utf-16 writes a BOM
        (corpus / name).write_bytes(text.encode(encoding))
    for name, (raw, _) in BAD_FILES.items():
        (corpus / name).write_bytes(raw)
    (corpus / "notes.json").write_bytes(b"{} not a document suffix: ignored")
    return corpus


def test_each_bad_file_is_skipped_with_a_warning_naming_it_and_why(
    tmp_path: Path, messy_corpus: Path, fake_model
) -> None:
    engine, messages = open_with_messages(tmp_path, messy_corpus)
    warnings = [m for m in messages if m.startswith("warning: ")]
    assert len(warnings) == len(BAD_FILES)
    for name, (_, reason) in BAD_FILES.items():
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        assert any(shown in w and reason in w for w in warnings), (name, warnings)
    assert set(engine.stored.documents) == {Path(n).stem for n in GOOD_FILES}
    assert list(engine.stored.manifest.corpus.skipped) == [w.removeprefix("warning: ") for w in warnings]
    json.dumps(engine.stored.manifest.to_json(), ensure_ascii=False).encode("utf-8")  # plain, encodable


def test_files_with_spaces_non_ascii_names_and_utf16_are_indexed(
    tmp_path: Path, messy_corpus: Path, fake_model
) -> None:
    engine, _ = open_with_messages(tmp_path, messy_corpus)
    assert engine.document("name with spaces").text == GOOD_FILES["name with spaces.txt"]
    assert engine.document("utf16").text == GOOD_FILES["utf16.txt"]  # BOM gone, text decoded
    for question, doc in (
        ("Где подписан договор о коллективной безопасности?", "Договор ОДКБ"),
        ("Where does the secretariat sit?", "name with spaces"),
        ("peacekeepers Kazakhstan", "utf16"),
    ):
        answer = engine.ask(question, mode="bm25", abstain=False)
        assert answer.passages[0].doc == doc
        passage = answer.passages[0]
        assert engine.document(doc).text[passage.start : passage.end] == passage.text
        json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")


def test_an_unreadable_file_is_skipped_and_does_not_break_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("The CSTO holds exercises.", encoding="utf-8")
    (corpus / "locked.txt").write_text("Nobody may read this.", encoding="utf-8")
    real_read, real_hash = ingest._read_file, ingest.file_sha256

    def read_file(path: Path, limit: int) -> bytes:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read(path, limit)

    def file_sha256(path: Path) -> str:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_hash(path)

    monkeypatch.setattr("csto_qa.ingest.corpus._read_file", read_file)
    monkeypatch.setattr("csto_qa.ingest.corpus.file_sha256", file_sha256)
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["ok"]
    assert loaded.warnings == [f"skipped '{corpus / 'locked.txt'}': cannot read it (Permission denied)"]
    assert corpus_fingerprint(corpus)["locked.txt"].startswith("unreadable")
    manifest = build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    assert manifest.counts.documents == 1


def test_a_broken_corpus_manifest_is_ignored_with_a_warning(tmp_path: Path, fake_model) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("CSTO facts\nThe CSTO was founded in 2002.", encoding="utf-8")
    (corpus / "manifest.json").write_text('{"documents": {"ok": {"title": ', encoding="utf-8")
    engine, messages = open_with_messages(tmp_path, corpus)
    assert any("manifest.json" in m and "ignored" in m for m in messages)
    assert engine.document("ok").title == "CSTO facts"  # taken from the file's first line


# --- large files -------------------------------------------------------------------------------


def test_a_large_file_and_a_huge_single_line_are_indexed_end_to_end(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "big.txt").write_text((SECTIONS + "\n") * 40, encoding="utf-8")  # ~0.7 MB of sections
    flat = " ".join(SECTIONS.split())  # a flattened web page: ~1 MB, no line break at all
    (corpus / "flat.txt").write_text(" ".join([flat] * 60), encoding="utf-8")
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    stored = load_index(tmp_path / "index")  # validates every offset against the documents
    by_doc = {doc: [c for c in stored.chunks if c.doc_id == doc] for doc in ("big", "flat")}
    for doc, chunks in by_doc.items():
        text = stored.documents[doc].text
        assert chunks and chunks[-1].end >= len(text.rstrip()) - 2000, doc  # the end is indexed too
    assert max(len(c.text.split()) for c in stored.chunks) <= 150 + 30


@pytest.mark.slow
def test_a_fifty_megabyte_file_is_ingested_and_chunked(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    block = (SECTIONS + "\n").encode("utf-8")
    with (corpus / "fifty.txt").open("wb") as handle:
        for _ in range(50_000_000 // len(block) + 1):
            handle.write(block)
    assert (corpus / "fifty.txt").stat().st_size >= 50_000_000
    loaded = load_corpus(corpus)
    assert loaded.warnings == [] and len(loaded.documents) == 1
    text = loaded.documents[0].text
    chunked = chunk_corpus(loaded.documents)
    sentences, chunks = chunked.sentences, chunked.chunks
    assert len(chunks) > 50_000
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert all(0 <= s.start < s.end <= len(text) for s in sentences)
    assert chunks[-1].end >= len(text.rstrip()) - 2000
