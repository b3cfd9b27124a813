"""Builders of small PDF, Word and HTML files for the reader tests (made in the test, not stored).

PDFs come from fpdf2 (the test extra), Word files from python-docx itself, HTML is written
out: each is laid out the way real ones are (running headers, wrapped lines, nav bars).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

FILLER = (
    "The member states coordinate their positions on questions of international security and hold "
    "regular consultations at the level of ministers of foreign affairs and of defence, and they "
    "report on the results of this work to the Collective Security Council every year. "
)


def prose(seed: int) -> str:
    """A paragraph like ``FILLER`` whose words are rotated by ``seed``: each page wraps differently,
    as real pages do (no body line repeats in the same place on every page)."""
    words = FILLER.split()
    shift = seed % len(words)
    return " ".join(words[shift:] + words[:shift]) + f" This is paragraph {seed}."


def pdf_bytes(
    pages: Sequence[Sequence[str]],
    title: str = "",
    header: str = "",
    footer: bool = False,
    user_password: str | None = None,
) -> bytes:
    """A PDF with one entry of ``pages`` per page; each item is a paragraph, "# text" a heading.

    A paragraph longer than the page flows onto the next one (fpdf2's automatic page break),
    as in a real document; ``header`` is repeated at the top of every page and ``footer``
    puts "Page N of M" at the bottom.
    """
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", "I", 9)
                self.cell(0, 8, header, align="C")
                self.ln(12)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Doc()
    if title:
        pdf.set_title(title)
    if user_password is not None:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(
            owner_password="owner", user_password=user_password, encryption_method=EncryptionMethod.RC4
        )
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            if paragraph.startswith("# "):
                pdf.set_font("Helvetica", "B", 14)
                pdf.multi_cell(0, 9, paragraph[2:])
                pdf.ln(2)
            else:
                pdf.set_font("Helvetica", size=11)
                pdf.multi_cell(0, 6, paragraph)
                pdf.ln(4)
    return bytes(pdf.output())


def scanned_pdf_bytes() -> bytes:
    """A PDF whose only page is a picture of text: no text layer, as a scan without OCR."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "The CSTO was founded in 2002.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def docx_bytes(blocks: Sequence[tuple[str, object]], title: str = "") -> bytes:
    """A Word file from (kind, content) blocks: ("title"|"h1"|"h2"|"p", text) or ("table", rows)."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), 0)
        elif kind in ("h1", "h2"):
            document.add_heading(str(content), int(kind[1]))
        elif kind == "table":
            rows = list(content)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            document.add_paragraph(str(content))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_page(title: str, main: str, with_furniture: bool = True) -> str:
    """A saved web page: ``main`` inside <main>, with a nav bar, banner, sidebar, footer and scripts."""
    furniture_top = (
        '<header class="site-header"><a href="/">CSTO Watch</a> '
        "<span>Subscribe to our newsletter</span></header>"
        '<nav class="navbar"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
        '<li><a href="/donate">Donate</a></li><li><a href="/login">Log in</a></li></ul></nav>'
        if with_furniture
        else ""
    )
    furniture_bottom = (
        '<aside class="sidebar"><h3>Trending</h3><p>Celebrity gossip you will not believe.</p></aside>'
        "<footer><p>Copyright 2024 CSTO Watch. All rights reserved. Privacy policy.</p></footer>"
        if with_furniture
        else ""
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body { font-family: sans-serif }</style>"
        "<script>window.analytics = {track: function () { return 'tracking pixel'; }};</script></head>"
        f"<body>{furniture_top}<main>{main}</main>{furniture_bottom}"
        "<script>document.write('injected by script');</script></body></html>"
    )


def two_page_pdf() -> bytes:
    return pdf_bytes(
        [
            ["# Article 1", FILLER * 2 + "A well-known organi-\nzation was founded in Tashkent in 1992."],
            ["# Article 2", "The Collective Rapid Reaction Force numbers about 20,000 troops.", FILLER],
        ],
        title="Charter of the CSTO",
        header="CSTO Briefing Notes - internal draft",
        footer=True,
    )


INFOBOX_PAGE = html_page(
    "Collective Security Treaty Organization - Wikipedia",
    "<h1>Collective Security Treaty Organization</h1>"
    "<table class='infobox'><tr><th>Headquarters</th><td>Moscow, Russia</td></tr>"
    "<tr><th>Founded</th><td>7 October 2002<sup class='reference'>[3]</sup></td></tr>"
    "<tr><th>Members</th><td>Armenia<br>Belarus<br>Kazakhstan</td></tr></table>"
    "<p>The Collective Security Treaty Organization is an intergovernmental military alliance in "
    "Eurasia.<sup>[1]</sup></p>"
    "<h2>History<span class='mw-editsection'>[edit]</span></h2>"
    "<p>The treaty was signed in Tashkent on 15 May 1992 by six states of the former Soviet Union, "
    "and it entered into force in 1994 for a period of five years.</p>"
    "<table><tr><th>Country</th><th>Joined</th></tr><tr><td>Armenia</td><td>1992</td></tr></table>",
)
