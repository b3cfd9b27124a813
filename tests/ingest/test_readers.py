"""Readers: each format's text, title and page offsets, and the pure cleaning steps by hand."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from format_fixtures import (
    INFOBOX_PAGE,
    docx_bytes,
    pdf_bytes,
    prose,
    scanned_pdf_bytes,
    two_page_pdf,
)

from csto_qa.ingest.readers import UnreadableDocument, read
from csto_qa.ingest.readers.pdf import assemble, drop_furniture
from csto_qa.records import page_span

# --- pure functions, by hand -------------------------------------------------------------------


def test_page_span_maps_offsets_to_one_based_pages() -> None:
    assert page_span((), 5, 10) == {"page_start": None, "page_end": None}
    assert page_span((0, 100), 0, 50) == {"page_start": 1, "page_end": 1}
    assert page_span((0, 100), 120, 130) == {"page_start": 2, "page_end": 2}
    assert page_span((0, 100), 90, 130) == {"page_start": 1, "page_end": 2}
    assert page_span((0, 100), 50, 100) == {"page_start": 1, "page_end": 1}  # end is exclusive
    assert page_span((0, 100, 100, 200), 100, 150) == {"page_start": 3, "page_end": 3}  # page 2 empty


def test_running_headers_footers_and_page_numbers_are_dropped_but_article_lines_kept() -> None:
    pages = [
        ["CSTO Report 2024", "Article 1", "Text one.", "Page 1 of 3"],
        ["CSTO Report 2024", "Article 2", "Text two.", "Page 2 of 3"],
        ["CSTO Report 2024", "Article 3", "Text three.", "3"],
    ]
    assert drop_furniture(pages) == [
        ["Article 1", "Text one."],
        ["Article 2", "Text two."],
        ["Article 3", "Text three."],
    ]


def test_a_line_on_one_page_only_is_not_furniture() -> None:
    pages = [["Charter of the CSTO", "Text one."], ["Article 2", "Text two."]]
    assert drop_furniture(pages) == pages


def test_assemble_joins_wrapped_lines_repairs_hyphens_and_records_page_starts() -> None:
    long = "x" * 40
    pages = [
        ["Heading", f"{long} the organi-", "zation was well-", f"known and it {long} ends in the"],
        ["middle of a sentence.", "Next"],
    ]
    text, starts = assemble(pages)
    # "well-known" is kept only because it occurs inside a line elsewhere: add one.
    assert text.startswith(f"Heading\n{long} the organization was well")
    assert "ends in the middle of a sentence." in text  # a page break is a space, not glue
    assert starts == (0, text.index("middle"))
    text2, _ = assemble([[f"{long} a well-known one {long}", f"{long} again well-", "known here"]])
    assert "again well-known here" in text2


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_text_has_pages_title_and_no_page_furniture() -> None:
    extracted = read(two_page_pdf(), ".pdf")
    text = extracted.text
    assert extracted.title == "Charter of the CSTO"
    assert len(extracted.pages) == 2 and extracted.pages[0] == 0
    assert text[extracted.pages[1] :].startswith("Article 2\nThe Collective Rapid Reaction Force")
    assert "Briefing Notes" not in text and "Page 1" not in text and "of 2" not in text
    assert "organization was founded in Tashkent" in text and "well-known" in text


def test_a_paragraph_flowing_over_pages_keeps_every_word_whole() -> None:
    words = " ".join(f"word{i}" if i % 9 else f"Sentence{i}." for i in range(2500))
    extracted = read(pdf_bytes([[words]], header="Running header"), ".pdf")
    assert len(extracted.pages) >= 3
    assert " ".join(extracted.text.split()) == words  # no glued or split word, nothing added


def test_a_200_page_pdf_is_read_with_200_page_offsets() -> None:
    extracted = read(pdf_bytes([[f"# Part {i}", prose(i)] for i in range(1, 201)], footer=True), ".pdf")
    assert len(extracted.pages) == 200
    assert list(extracted.pages) == sorted(extracted.pages)
    for page in (1, 137, 200):
        assert extracted.text[extracted.pages[page - 1] :].startswith(f"Part {page}\n{prose(page)}")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (scanned_pdf_bytes(), "no text layer (a scanned image?); OCR is not supported"),
        (pdf_bytes([["A secret."]], user_password="letmein"), "encrypted with a password"),
        (two_page_pdf()[:1500], "not a readable PDF"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 20, "not a readable PDF"),
    ],
    ids=["scanned", "encrypted", "truncated", "garbage"],
)
def test_bad_pdfs_are_refused_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=re.escape(reason)):
        read(raw, ".pdf")


def test_a_pdf_locked_only_against_editing_is_read() -> None:
    assert (
        "open for reading"
        in read(pdf_bytes([["This file is open for reading."]], user_password=""), ".pdf").text
    )


# --- HTML --------------------------------------------------------------------------------------


def test_html_keeps_main_content_headings_and_table_rows_and_drops_furniture() -> None:
    extracted = read(INFOBOX_PAGE.encode("utf-8"), ".html")
    lines = extracted.text.split("\n")
    assert extracted.title == "Collective Security Treaty Organization - Wikipedia"
    assert extracted.pages == ()
    assert "Headquarters: Moscow, Russia" in lines
    assert "Founded: 7 October 2002" in lines and "Members: Armenia, Belarus, Kazakhstan" in lines
    assert "History" in lines and "Country: Armenia; Joined: 1992" in lines
    for furniture in (
        "Home",
        "Donate",
        "newsletter",
        "Trending",
        "rights reserved",
        "tracking",
        "injected",
        "[edit]",
    ):
        assert furniture not in extracted.text, furniture


def test_html_in_another_declared_encoding_is_decoded() -> None:
    page = (
        "<html><head><meta charset='windows-1251'><title>ОДКБ</title></head>"
        "<body><p>Организация Договора о коллективной безопасности.</p></body></html>"
    )
    extracted = read(page.encode("windows-1251"), ".htm")
    assert extracted.title == "ОДКБ" and "Организация Договора" in extracted.text


def test_mostly_script_html_is_refused_and_deep_nesting_is_read() -> None:
    app = "<html><body><div id='root'></div><script>" + "var x = 1;" * 5000 + "</script></body></html>"
    with pytest.raises(UnreadableDocument, match="mostly script"):
        read(app.encode(), ".html")
    deep = "<div>" * 3000 + "The deeply nested sentence is still read." + "</div>" * 3000
    assert "deeply nested sentence" in read(deep.encode(), ".html").text


# --- DOCX --------------------------------------------------------------------------------------


def test_docx_gives_headings_as_lines_tables_as_rows_and_its_title() -> None:
    raw = docx_bytes(
        [
            ("title", "Charter of the Collective Security Treaty Organization"),
            ("h1", "Article 3"),
            ("p", "The purposes of the Organization are to strengthen peace and international security."),
            ("table", [["Founded", "2002"], ["Seat", "Moscow"]]),
        ],
        title="CSTO Charter",
    )
    extracted = read(raw, ".docx")
    assert extracted.title == "CSTO Charter"
    assert extracted.text.split("\n") == [
        "Charter of the Collective Security Treaty Organization",
        "Article 3",
        "The purposes of the Organization are to strengthen peace and international security.",
        "Founded: 2002",
        "Seat: Moscow",
    ]


def _rezip(raw: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, replace.get(item.filename, src.read(item.filename)))
    return out.getvalue()


def test_docx_external_and_recursive_entities_are_not_resolved(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f"<w:document {ns}><w:body><w:p><w:r><w:t>Visible text. &xxe; &c;</w:t></w:r></w:p>"
        "</w:body></w:document>"
    ).encode()
    raw = _rezip(docx_bytes([("p", "placeholder")]), {"word/document.xml": body})
    try:
        text = read(raw, ".docx").text
    except UnreadableDocument:
        return  # refusing the file is safe too
    assert "TOP-SECRET" not in text and "lollol" not in text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (docx_bytes([("p", "Some text " * 200)])[:2000], "not a valid .docx"),
        (b"PK\x03\x04 not really a zip", "not a valid .docx"),
        (_rezip(docx_bytes([("p", "x")]), {"word/document.xml": b"<w:document"}), "not a valid .docx"),
    ],
    ids=["truncated", "not-a-zip", "broken-xml"],
)
def test_bad_docx_files_are_refused_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=reason):
        read(raw, ".docx")


def test_unsupported_office_formats_get_a_hint() -> None:
    with pytest.raises(UnreadableDocument, match="save it as .docx"):
        read(b"\xd0\xcf\x11\xe0", ".doc")


def test_a_page_that_cannot_be_read_is_left_out_with_a_note_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pypdf

    real = pypdf.PageObject.extract_text
    calls = {"n": 0}

    def extract_text(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("broken content stream")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", extract_text)
    extracted = read(two_page_pdf(), ".pdf")
    assert extracted.notes == (
        "page 2 cannot be read (ValueError: broken content stream); the other pages are indexed",
    )
    assert "Article 1" in extracted.text and "Rapid Reaction" not in extracted.text


@pytest.mark.parametrize(
    ("module", "suffix", "package"),
    [("pypdf", ".pdf", "pypdf"), ("docx", ".docx", "python-docx"), ("bs4", ".html", "beautifulsoup4")],
)
def test_a_missing_reader_library_is_an_install_hint(
    monkeypatch: pytest.MonkeyPatch, module: str, suffix: str, package: str
) -> None:
    monkeypatch.setitem(__import__("sys").modules, module, None)  # makes "import module" fail
    with pytest.raises(UnreadableDocument, match=re.escape(f"pip install {package}")):
        read(b"anything", suffix)
