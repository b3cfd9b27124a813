"""PDF: the text layer of each page (pypdf), reflowed into paragraphs, with page offsets.

pypdf was chosen over pypdfium2 (``scripts/measure_readers.py``): with the cleaning below
both give every word of a 205-page PDF whole and in order; pypdfium2 is faster (0.7 s
against 2.8 s) but marks a line-end hyphen with U+FFFE, so "organi-zation" is not repaired,
and it is an 8 MB native PDF engine parsing untrusted files where pypdf is a pure-Python
wheel (BSD). 2.8 s for 200 pages is small next to encoding their passages.
No OCR: a page without a text layer gives no text, and a file without any is refused.

What the index keeps is cleaned here, before any offset is taken:
- lines that repeat in the same place at the top or bottom of most pages (running
  headers, footers; at most 15 words, so a repeated sentence of prose stays) and bare
  page numbers ("12", "Page 3 of 9") are dropped;
- a line-end hyphen between two halves of a word is removed ("organi-" + "zation"),
  unless the hyphenated form occurs inside a line elsewhere in the file ("well-known");
- lines of one paragraph are joined with a space, also across a page break, so a page
  break never glues two words; short lines (headings, last lines) keep their line break.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from csto_qa.errors import missing_dependency
from csto_qa.ingest.readers import ExtractedText, UnreadableDocument, clean_line, clean_title

ZONE = 2  # lines at the top and at the bottom of a page where headers and footers stand
FURNITURE_SHARE = 0.5  # a zone line repeated on at least this share of the pages is furniture
FURNITURE_MAX_WORDS = 15  # running headers are short; a repeated sentence of prose is kept
FULL_LINE = 0.7  # a line at least this share of the usual (90th percentile) width wraps on
_PAGE_NUMBER = re.compile(
    r"^(page|p\.|seite|стр\.?|страница)?\s*[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*(/|of|из)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_NUMBER_MARK = re.compile(r"(page|p\.|стр\.?)\s*#|#\s*(/|of|из)\s*\d|[|·•–—-]\s*#|#\s*[|·•–—-]")
_TERMINAL = tuple(".!?:;")
_INLINE_HYPHEN = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")
_FILE_LIKE_TITLE = re.compile(r"(\.(docx?|pdf|rtf|odt|indd|tex|qxd)$)|^untitled$", re.IGNORECASE)


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs every repaired defect at WARNING; ingest reports what matters once."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def read(raw: bytes) -> ExtractedText:
    try:
        import pypdf
    except ImportError as exc:
        raise UnreadableDocument(str(missing_dependency("pypdf"))) from exc
    with _quiet_pypdf():
        try:
            reader = pypdf.PdfReader(io.BytesIO(raw))
            encrypted = reader.is_encrypted
        except Exception as exc:  # any parser failure on untrusted bytes is "corrupt", said once
            raise UnreadableDocument(f"it is not a readable PDF ({_why(exc)}); is it truncated?") from None
        if encrypted:
            _decrypt(reader)
        notes: list[str] = []
        pages: list[list[str]] = []
        try:
            count = len(reader.pages)
        except Exception as exc:
            raise UnreadableDocument(
                f"its page list cannot be read ({_why(exc)}); is it truncated?"
            ) from None
        for number in range(count):
            try:
                text = reader.pages[number].extract_text() or ""
            except Exception as exc:
                notes.append(f"page {number + 1} cannot be read ({_why(exc)}); the other pages are indexed")
                text = ""
            pages.append(_page_lines(text))
        title = ""
        try:
            title = clean_title(reader.metadata.title if reader.metadata else "")
        except Exception:  # a broken info dictionary only costs the title
            title = ""
    if count == 0:
        raise UnreadableDocument("it has no pages")
    if not any(any(c.isalpha() for c in line) for page in pages for line in page):
        raise UnreadableDocument(
            "it has no text layer (a scanned image?); OCR is not supported, so save a PDF with text "
            "or a .txt of it"
        )
    text, starts = assemble(drop_furniture(pages))
    if _FILE_LIKE_TITLE.search(title):
        title = ""
    return ExtractedText(text, title.removeprefix("Microsoft Word - "), starts, tuple(notes))


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _decrypt(reader: Any) -> None:
    """Open a PDF locked only against editing (empty user password); refuse a real password."""
    try:
        opened = reader.decrypt("")
    except Exception as exc:  # AES needs the 'cryptography' package; anything else is refusal too
        needs = "cryptography" in str(exc)
        raise UnreadableDocument(
            "it is encrypted and cannot be opened"
            + (
                " without the 'cryptography' package (pip install cryptography)"
                if needs
                else f" ({_why(exc)})"
            )
            + "; save an unencrypted copy"
        ) from None
    if not opened:
        raise UnreadableDocument("it is encrypted with a password; save an unencrypted copy")


def _page_lines(text: str) -> list[str]:
    """Clean non-empty lines of one page; a line-end soft hyphen is kept as a hyphen mark."""
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        soft = line.endswith("\u00ad")
        line = clean_line(line)
        if line:
            lines.append(line + ("\u00ad" if soft else ""))
    return lines


def _key(line: str, page_number: int) -> str:
    """A line as compared across pages: case folded, and this page's own number masked where
    it reads as a page number ("Report · 3", "page 3", "3 of 9"), not as "Article 3"."""
    folded = line.casefold()
    masked = re.sub(rf"(?<!\d){page_number}(?!\d)", "#", folded)
    return masked if _NUMBER_MARK.search(masked) else folded


def _zone(lines: list[str]) -> dict[int, int]:
    """Line index -> its place on the page: 0, 1 from the top, -1, -2 from the bottom."""
    n = len(lines)
    places = {i - n: i for i in range(max(n - ZONE, 0), n)}
    places.update({i: i for i in range(min(ZONE, n))})
    return {index: place for place, index in places.items()}


def drop_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Pages without their running headers, footers and bare page numbers."""
    # A header is the same line in the same place (first line, last line...) on most pages.
    counts: Counter[tuple[int, str]] = Counter()
    for number, lines in enumerate(pages, start=1):
        counts.update({(place, _key(lines[i], number)) for i, place in _zone(lines).items()})
    with_text = sum(1 for lines in pages if lines)
    need = max(2, math.ceil(FURNITURE_SHARE * with_text))
    out = []
    for number, lines in enumerate(pages, start=1):
        drop = {
            i
            for i, place in _zone(lines).items()
            if _PAGE_NUMBER.match(lines[i])
            or (
                with_text >= 2
                and len(lines[i].split()) <= FURNITURE_MAX_WORDS
                and counts[(place, _key(lines[i], number))] >= need
            )
        }
        out.append([line for i, line in enumerate(lines) if i not in drop])
    return out


def assemble(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """One text from the pages' lines, and the offset where each page starts in it."""
    all_lines = [line for lines in pages for line in lines]
    widths = sorted(len(line) for line in all_lines)
    usual = widths[int(0.9 * (len(widths) - 1))] if widths else 0
    compounds = {
        f"{a}-{b}".casefold() for line in all_lines for a, b in _INLINE_HYPHEN.findall(line.rstrip("-"))
    }
    parts: list[str] = []
    length = 0
    starts: list[int] = []
    previous = ""
    for lines in pages:
        page_start: int | None = None
        for line in lines:
            if previous:
                glue = _glue(previous, line, usual, compounds)
                if glue == "":  # a soft or line-end hyphen removed: take it off the text
                    parts[-1] = parts[-1][:-1]
                    length -= 1
                elif glue != "-":
                    parts.append(glue)
                    length += len(glue)
            if page_start is None:
                page_start = length
            clean = line.removesuffix("\u00ad") + ("-" if line.endswith("\u00ad") else "")
            parts.append(clean)
            length += len(clean)
            previous = line
        starts.append(length if page_start is None else page_start)
    if starts:
        starts[0] = 0
    return "".join(parts), tuple(starts)


def _glue(previous: str, line: str, usual: int, compounds: set[str]) -> str:
    """What joins two consecutive lines: "" (hyphen removed), "-" (hyphen kept), " " or "\\n"."""
    starts_lower = line[:1].islower()
    if previous.endswith("\u00ad") and starts_lower:
        return ""
    if previous.endswith("-") and len(previous) > 1 and previous[-2].isalpha() and starts_lower:
        head = previous[:-1].rsplit(" ", 1)[-1]
        tail = re.match(r"[^\W\d_]+", line)
        word = f"{head}-{tail.group(0) if tail else ''}".casefold()
        return "-" if word in compounds else ""
    full = len(previous) >= FULL_LINE * usual
    ends_sentence = previous.endswith(_TERMINAL)
    if full and not (ends_sentence and len(line) < FULL_LINE * usual):
        return " "
    return "\n"
