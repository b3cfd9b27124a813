"""Ingest: PDF, HTML and Word files answered with page and section citations, the corpus
boundary (symlinks), escaped names, the size limit and id clashes. A fake encoder keeps
these fast; questions go through BM25, which is what the fake cannot spoil."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from fakes import FakeEncoder, open_with_messages
from format_fixtures import (
    FILLER,
    INFOBOX_PAGE,
    docx_bytes,
    html_page,
    pdf_bytes,
    prose,
    scanned_pdf_bytes,
    two_page_pdf,
)

from csto_qa.cli import format_answer
from csto_qa.index.build import build, quiet, stale_reason
from csto_qa.index.storage import load_index
from csto_qa.ingest.corpus import MAX_FILE_ENV, corpus_fingerprint, load_corpus, shown
from csto_qa.records import Document

RAW_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def write(folder: Path, files: dict[str, bytes | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def formats_corpus(tmp_path: Path) -> Path:
    word = docx_bytes(
        [
            ("title", "Charter of the Collective Security Treaty Organization"),
            ("h1", "Article 7"),
            (
                "p",
                "The member states take joint measures to create an effective collective security system "
                "and hold command and staff exercises every autumn under the name Interaction.",
            ),
            ("h1", "Article 19"),
            (
                "p",
                "The Charter is registered with the Secretariat of the United Nations in accordance "
                "with Article 102 of the United Nations Charter. " + FILLER,
            ),
        ],
        title="Charter of the CSTO (Word)",
    )
    return write(
        tmp_path / "corpus",
        {
            "briefing.pdf": two_page_pdf(),
            "wiki.html": INFOBOX_PAGE,
            "charter.docx": word,
            "notes.txt": "Plain notes\nThe CSTO has a parliamentary assembly in Saint Petersburg.",
        },
    )


def test_pdf_html_and_docx_are_answered_with_page_and_section_citations(tmp_path: Path, fake_model) -> None:
    engine, messages = open_with_messages(tmp_path, formats_corpus(tmp_path))
    assert not [m for m in messages if m.startswith("warning")], messages
    docs = engine.stored.documents
    assert {d: docs[d].title for d in docs} == {
        "briefing": "Charter of the CSTO",
        "wiki": "Collective Security Treaty Organization - Wikipedia",
        "charter": "Charter of the CSTO (Word)",
        "notes": "Plain notes",
    }
    cases = [
        ("How many troops does the Collective Rapid Reaction Force have?", "briefing", "Article 2", 2),
        ("Which city hosts the headquarters?", "wiki", "", None),
        ("When was the treaty signed in Tashkent?", "wiki", "History", None),
        ("What exercises are held every autumn?", "charter", "Article 7", None),
    ]
    for question, doc, section, page in cases:
        answer = engine.ask(question, mode="bm25", abstain=False)
        # The answer layer may lead with another passage (the fake encoder's cosines are
        # noise); the passage of the expected file must be cited, with its page and section.
        rank, top = next((i, p) for i, p in enumerate(answer.passages) if p.doc == doc)
        assert (top.section, top.page_start, top.page_end) == (section, page, page), question
        assert docs[doc].text[top.start : top.end] == top.text
        data = json.loads(json.dumps(answer.to_dict()))
        assert data["passages"][rank]["page_start"] == page and "page_end" in data["passages"][rank]
    troops = engine.ask(cases[0][0], mode="bm25", abstain=False)
    assert "Charter of the CSTO — Article 2, page 2  (chars" in format_answer(troops)
    headquarters = engine.ask(cases[1][0], mode="bm25", abstain=False).passages[0]
    assert "Headquarters: Moscow, Russia" in headquarters.text


def test_page_furniture_is_not_indexed_and_offsets_hold_for_every_format(tmp_path: Path) -> None:
    corpus = formats_corpus(tmp_path)
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    stored = load_index(tmp_path / "index")
    rows = [json.loads(line) for line in (tmp_path / "index" / "documents.jsonl").read_text().splitlines()]
    assert {r["doc_id"]: r["pages"] for r in rows}["notes"] == []
    assert len(stored.documents["briefing"].pages) == 2
    for chunk in stored.chunks:
        assert stored.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
        assert "Briefing Notes" not in chunk.text and not re.search(r"Page \d of", chunk.text)


def test_an_index_from_before_pages_still_loads() -> None:
    old = {
        "doc_id": "a",
        "title": "A",
        "text": "Text.",
        "path": "a.txt",
        "source": "",
        "licence": "",
        "sha256": "",
    }
    assert Document.from_dict(old).pages == ()
    assert Document.from_dict({**old, "pages": "oops"}).pages == ()  # malformed: dropped, not trusted
    assert Document.from_dict({**old, "pages": [0, 10]}).pages == (0, 10)


def test_a_changed_pdf_makes_the_index_stale(tmp_path: Path) -> None:
    corpus = formats_corpus(tmp_path)
    manifest = build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    (corpus / "briefing.pdf").write_bytes(pdf_bytes([["# Article 1", "A new text."]]))
    reason = stale_reason(
        manifest, corpus, "fake-encoder", __import__("csto_qa.ingest.chunking").ingest.chunking.ChunkParams()
    )
    assert reason is not None and "briefing.pdf" in reason


def test_bad_files_each_give_one_warning_and_the_good_ones_are_indexed(tmp_path: Path, fake_model) -> None:
    corpus = formats_corpus(tmp_path)
    bad = {
        "scan.pdf": (scanned_pdf_bytes(), "no text layer (a scanned image?); OCR is not supported"),
        "locked.pdf": (pdf_bytes([["Secret."]], user_password="pw"), "encrypted with a password"),
        "cut.pdf": (two_page_pdf()[:1500], "not a readable PDF"),
        "cut.docx": (docx_bytes([("p", "Some words " * 300)])[:1500], "not a valid .docx"),
        "app.html": (
            "<html><body><script>" + "render();" * 4000 + "</script></body></html>",
            "mostly script",
        ),
        "old.doc": (b"\xd0\xcf\x11\xe0 old Word", "save it as .docx"),
    }
    write(corpus, {name: raw for name, (raw, _) in bad.items()})
    write(corpus, {"long.pdf": pdf_bytes([[f"# Part {i}", prose(i)] for i in range(1, 201)], footer=True)})
    engine, messages = open_with_messages(tmp_path, corpus)
    warnings = [m for m in messages if m.startswith("warning: ")]
    assert len(warnings) == len(bad), warnings
    for name, (_, reason) in bad.items():
        assert sum(name in w and reason in w for w in warnings) == 1, (name, warnings)
    assert set(engine.stored.documents) == {"briefing", "wiki", "charter", "notes", "long"}
    assert len(engine.stored.documents["long"].pages) == 200
    answer = engine.ask("Part 137", mode="bm25", abstain=False)
    assert (answer.passages[0].doc, answer.passages[0].page_start) == ("long", 137)


# --- corpus boundary ---------------------------------------------------------------------------


def test_symlinks_out_of_the_corpus_loops_and_dangling_links_are_refused_with_warnings(
    tmp_path: Path,
) -> None:
    outside = write(tmp_path / "elsewhere", {"secret.txt": "PRIVATE: the password is hunter2."})
    corpus = write(tmp_path / "corpus", {"good.txt": "The CSTO was founded in 2002."})
    write(corpus / "sub", {"inner.txt": "A file in a sub-folder, linked from the corpus."})
    (corpus / "passwd.txt").symlink_to(outside / "secret.txt")
    (corpus / "proc.txt").symlink_to("/proc/self/status")
    (corpus / "up.txt").symlink_to("../elsewhere/secret.txt")
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "gone.txt").symlink_to(corpus / "missing.txt")
    (corpus / "inside.txt").symlink_to(corpus / "sub" / "inner.txt")
    loaded = load_corpus(corpus)
    assert {d.doc_id for d in loaded.documents} == {"good", "inside"}
    assert all("hunter2" not in d.text for d in loaded.documents)
    expect = {
        "passwd.txt": "outside the corpus folder",
        "proc.txt": "outside the corpus folder",
        "up.txt": "outside the corpus folder",
        "loop-a.txt": "a loop",
        "loop-b.txt": "a loop",
        "gone.txt": "dangling link",
    }
    assert len(loaded.warnings) == len(expect)
    for name, reason in expect.items():
        assert sum(f"/{name}'" in w and reason in w for w in loaded.warnings) == 1, (name, loaded.warnings)
    # The fingerprint never opens what it refuses, so /proc/self/status cannot make every ask rebuild.
    first, second = corpus_fingerprint(corpus), corpus_fingerprint(corpus)
    assert first == second and first["proc.txt"].startswith("not read: ")
    assert "/proc/self/status" in first["proc.txt"] and str(os.getpid()) not in first["proc.txt"]


def test_control_characters_in_file_names_never_reach_the_terminal_raw(tmp_path: Path, fake_model) -> None:
    names = ["esc\x1b[31mred.txt", "osc\x1b]0;pwned\x07.txt", "two\nlines.txt", "bidi\u202etxt.exe.txt"]
    corpus = write(tmp_path / "corpus", {n: "Some text about the CSTO." for n in names})
    write(corpus, {"ok.txt": "The CSTO was founded in 2002."})
    engine, messages = open_with_messages(tmp_path, corpus)
    warnings = [m for m in messages if m.startswith("warning")]
    assert len(warnings) == len(names)
    for message in messages:
        assert not RAW_CONTROL.search(message) and "\u202e" not in message, repr(message)
    assert any("esc\\x1b[31mred.txt" in w and "control characters" in w for w in warnings)
    assert any("two\\nlines.txt" in w for w in warnings)
    assert set(engine.stored.documents) == {"ok"}
    assert shown("a\x1b]0;x\x07b\u2028c") == "a\\x1b]0;x\\x07b\\u2028c"


def test_a_file_over_the_size_limit_is_skipped_with_a_warning_and_the_limit_can_be_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write(tmp_path / "corpus", {"small.txt": "The CSTO was founded in 2002."})
    (corpus / "huge.txt").write_bytes(b"The treaty text goes on. " * 50_000)  # 1.25 MB
    monkeypatch.setenv(MAX_FILE_ENV, "1")
    opened: list[str] = []
    real = __import__("csto_qa.ingest.corpus").ingest.corpus.file_sha256
    monkeypatch.setattr("csto_qa.ingest.corpus.file_sha256", lambda p: opened.append(p.name) or real(p))
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["small"]
    (warning,) = loaded.warnings
    assert "huge.txt" in warning and "1.2 MB, over the 1 MB limit" in warning
    assert f"{MAX_FILE_ENV}=2" in warning
    fingerprint = corpus_fingerprint(corpus)
    assert fingerprint["huge.txt"].startswith("not read: ") and "huge.txt" not in opened
    monkeypatch.setenv(MAX_FILE_ENV, "2")
    assert {d.doc_id for d in load_corpus(corpus).documents} == {"small", "huge"}
    assert corpus_fingerprint(corpus)["huge.txt"] != fingerprint["huge.txt"]  # raising it rebuilds
    assert {d.doc_id for d in load_corpus(corpus, max_file_mb=0.5).documents} == {"small"}
    monkeypatch.setenv(MAX_FILE_ENV, "lots")
    with pytest.raises(Exception, match="not a number of megabytes"):
        load_corpus(corpus)


def test_files_sharing_an_id_are_all_indexed_and_the_larger_keeps_it(tmp_path: Path, fake_model) -> None:
    real = (
        "CSTO facts for kids\n" + "The Collective Security Treaty Organization is a military alliance. " * 40
    )
    corpus = write(
        tmp_path / "corpus",
        {
            "csto-facts-for-kids.md": "A one-line note.",
            "csto-facts-for-kids.txt": real,
            "charter.pdf": pdf_bytes(
                [["# Charter", "The Charter of the CSTO was signed in Chisinau in 2002."]]
            ),
            "charter.html": html_page(
                "Charter page", "<p>" + "The Charter was adopted in October 2002. " * 5 + "</p>"
            ),
        },
    )
    engine, messages = open_with_messages(tmp_path, corpus)
    docs = engine.stored.documents
    assert docs["csto-facts-for-kids"].path == "csto-facts-for-kids.txt"
    assert docs["csto-facts-for-kids.md"].text == "A one-line note."
    assert docs["charter"].path == "charter.html" and docs["charter.pdf"].path == "charter.pdf"
    clashes = [m for m in messages if "share the document id" in m]
    assert len(clashes) == 2
    assert any("csto-facts-for-kids.md" in m and "csto-facts-for-kids.txt" in m for m in clashes)


def test_the_bundled_corpus_still_loads_with_the_same_ids_and_no_warnings() -> None:
    loaded = load_corpus(Path(__file__).resolve().parents[2] / "corpus")
    assert loaded.warnings == []
    assert {d.doc_id for d in loaded.documents} == {
        "csto-wikipedia",
        "csto-wikipedia-sections",
        "csto-analyst-rozen-bakher",
        "csto-facts-for-kids",
    }
    assert all(d.pages == () for d in loaded.documents)


def test_a_fifo_in_the_corpus_is_refused_without_blocking(tmp_path: Path) -> None:
    corpus = write(tmp_path / "corpus", {"ok.txt": "The CSTO was founded in 2002."})
    os.mkfifo(corpus / "pipe.txt")
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["ok"]
    assert len(loaded.warnings) == 1 and "not a regular file" in loaded.warnings[0]


@pytest.mark.slow
def test_the_real_model_answers_from_a_pdf_page_an_html_info_box_and_a_docx_section(tmp_path: Path) -> None:
    from csto_qa.engine import Engine

    engine = Engine.open(
        index_dir=tmp_path / "index", corpus_dir=formats_corpus(tmp_path), report=quiet, progress=False
    )
    cases = [
        ("How many soldiers are in the rapid reaction force?", "briefing", "20,000 troops", 2),
        ("In which city is the headquarters?", "wiki", "Headquarters: Moscow", None),
        (
            "When do the member states hold their command and staff exercises?",
            "charter",
            "every autumn",
            None,
        ),
    ]
    for question, doc, phrase, page in cases:
        answer = engine.ask(question)
        assert not answer.abstained, question
        top = answer.passages[0]
        assert (top.doc, top.page_start) == (doc, page), (question, top.doc, top.text)
        assert phrase in top.highlight, (question, top.highlight)
    assert engine.ask("How many soldiers are in the rapid reaction force?").passages[0].section == "Article 2"


def test_a_link_to_proc_self_gives_the_same_fingerprint_in_another_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    corpus = write(tmp_path / "corpus", {"ok.txt": "The CSTO was founded in 2002."})
    (corpus / "proc.txt").symlink_to("/proc/self/status")
    code = (
        "import json, sys; from csto_qa.ingest.corpus import corpus_fingerprint; "
        "print(json.dumps(corpus_fingerprint(sys.argv[1])))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(corpus)], capture_output=True, text=True, check=True
    )
    assert json.loads(other.stdout) == corpus_fingerprint(corpus)  # so every ask does not rebuild


def test_large_files_are_announced_while_they_are_read(tmp_path: Path) -> None:
    from csto_qa.ingest.corpus import PROGRESS_BYTES, load_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small.txt").write_text("The CSTO was founded in 2002.\n", encoding="utf-8")
    (corpus / "big.txt").write_text(
        "The members hold exercises every year.\n" * (PROGRESS_BYTES // 30), encoding="utf-8"
    )
    said: list[str] = []
    loaded = load_corpus(corpus, progress=said.append)
    assert len(loaded.documents) == 2
    assert len(said) == 1 and "'big.txt'" in said[0] and "MB" in said[0] and "of 2" in said[0]
