"""Compare candidate readers on generated, real-looking files (the figures in the README).

    PYTHONPATH=. python scripts/measure_readers.py

Needs the candidates that are not dependencies: pip install trafilatura pypdfium2.
PDF: pypdf vs pypdfium2 on a 200-page PDF (seconds, and whether each word of the source
comes out whole and in order) and on a page with a hyphenated line end.
HTML: our BeautifulSoup reader vs trafilatura on a page with a nav bar, an info box,
headings and a footer: does the nav go, do the info-box rows and the headings stay.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from format_fixtures import FILLER, html_page, pdf_bytes  # noqa: E402

from csto_qa.ingest.readers import read  # noqa: E402


def words_whole(source: str, text: str) -> bool:
    return " ".join(source.split()) in " ".join(text.split())


def pdf_rows() -> None:
    import pypdf
    import pypdfium2

    from csto_qa.ingest.readers.pdf import _page_lines, assemble, drop_furniture

    flowing = " ".join(f"word{i}" if i % 7 else f"Sentence{i}." for i in range(70_000))
    big = pdf_bytes([[flowing]], header="CSTO Briefing Notes", footer=True)
    hyphen = pdf_bytes(
        [["# Article 1", FILLER * 2 + "A well-known organi-\nzation was founded in Tashkent."]]
    )

    def with_pypdf(data: bytes) -> list[str]:
        return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]

    def with_pdfium(data: bytes) -> list[str]:
        document = pypdfium2.PdfDocument(data)
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]

    print(
        f"PDF: {len(with_pypdf(big))} pages, {len(big) / 1e6:.2f} MB; "
        "both raw texts then get the same cleaning"
    )
    print("| text layer | seconds | every word whole, in order | 'organization' repaired |")
    print("| --- | --- | --- | --- |")
    for name, extract in (("pypdf 7.1", with_pypdf), ("pypdfium2 5.15", with_pdfium)):
        t = time.perf_counter()
        pages = extract(big)
        seconds = time.perf_counter() - t
        text, _ = assemble(drop_furniture([_page_lines(p) for p in pages]))
        hy, _ = assemble(drop_furniture([_page_lines(p) for p in extract(hyphen)]))
        print(f"| {name} | {seconds:.2f} | {words_whole(flowing, text)} | {'organization' in hy} |")


def html_rows() -> None:
    import statistics

    import trafilatura

    main = (
        "<h1>Collective Security Treaty Organization</h1>"
        "<table class='infobox'><tr><th>Headquarters</th><td>Moscow, Russia</td></tr>"
        "<tr><th>Founded</th><td>7 October 2002<sup class='reference'>[3]</sup></td></tr>"
        "<tr><th>Members</th><td>Armenia<br>Belarus<br>Kazakhstan</td></tr></table>"
        "<p>The Collective Security Treaty Organization is an intergovernmental military alliance "
        "in Eurasia that consists of six post-Soviet states.<sup>[1]</sup></p>"
        "<h2>History<span class='mw-editsection'>[edit]</span></h2><p>The treaty was signed in "
        "Tashkent on 15 May 1992 by Armenia, Kazakhstan, Kyrgyzstan, Russia, Tajikistan and "
        "Uzbekistan, and it came into force in 1994.</p>"
    )
    page = html_page("CSTO", main)
    readers = {
        "BeautifulSoup + lxml (ours)": lambda: read(page.encode(), ".html").text,
        "trafilatura 2.3": lambda: trafilatura.extract(page, include_tables=True, favor_recall=True) or "",
    }
    print(
        "\n| reader | nav, footer dropped | info box kept | heading alone on a line "
        "| no '[edit]', '[3]' | rows as 'Key: value' | cells apart | ms (median of 20) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, extract in readers.items():
        text = extract()
        runs = []
        for _ in range(20):
            t = time.perf_counter()
            extract()
            runs.append(time.perf_counter() - t)
        lines = [line.strip("# ") for line in text.split("\n")]
        print(
            f"| {name} | {'Donate' not in text and 'All rights reserved' not in text} "
            f"| {'Moscow, Russia' in text} | {'History' in lines} "
            f"| {'[edit]' not in text and '[3]' not in text} | {'Headquarters: Moscow' in text} "
            f"| {'Armenia Belarus' not in text} | {statistics.median(runs) * 1e3:.1f} |"
        )


if __name__ == "__main__":
    pdf_rows()
    html_rows()
