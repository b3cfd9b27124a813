"""Word .docx: body paragraphs and tables in order (python-docx), heading styles as sections.

python-docx parses the package's XML with ``resolve_entities=False`` and fetches
nothing; macros (.docm) are not read at all. A .docx is a zip, so its unpacked size is
checked before anything is parsed: a 50 KB file that unpacks to gigabytes is refused.
Page headers, footers and comments are not body text and are not read.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from csto_qa.errors import missing_dependency
from csto_qa.ingest.readers import ExtractedText, UnreadableDocument, clean_line, clean_title

MAX_UNPACKED_BYTES = 256 * 2**20  # the XML of a 1,000-page report is about 10 MB
_HEADING = re.compile(r"^(heading \d|title|subtitle)$", re.IGNORECASE)


def read(raw: bytes) -> ExtractedText:
    try:
        import docx
    except ImportError as exc:
        raise UnreadableDocument(str(missing_dependency("python-docx"))) from exc
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableDocument(
            f"it is not a valid .docx (not a zip package: {exc}); is it truncated?"
        ) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableDocument(
            f"it unpacks to {unpacked / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES // 2**20} MB "
            "a Word file is allowed (a zip bomb?)"
        )
    try:
        document = docx.Document(io.BytesIO(raw))
        lines, first_title = _body_lines(document)
        title = clean_title(document.core_properties.title)
    except UnreadableDocument:
        raise
    except Exception as exc:  # a damaged part or XML: one reason, not a traceback
        raise UnreadableDocument(
            f"it is not a valid .docx ({type(exc).__name__}: {str(exc)[:160]}); is it truncated?"
        ) from None
    text = "\n".join(lines)
    if not text.strip():
        raise UnreadableDocument("it has no text in its body")
    return ExtractedText(text, title or first_title)


def _body_lines(document: Any) -> tuple[list[str], str]:
    """Lines of the body in order, and the text of its first Title/Heading-styled paragraph."""
    from docx.table import Table

    lines: list[str] = []
    first_title = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_rows(block))
            continue
        line = clean_line(block.text)
        if not line:
            continue
        style = block.style.name if block.style is not None else ""
        if _HEADING.match(style or "") and not first_title:
            first_title = clean_title(line)
        lines.append(line)
    return lines, first_title


def _table_rows(table: Any) -> list[str]:
    """One line per row; a merged cell (python-docx repeats it) is written once."""
    lines = []
    for row in table.rows:
        texts: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            texts.append(clean_line(" ".join(p.text for p in cell.paragraphs)))
        texts = [t for t in texts if t]
        if len(texts) == 2:
            lines.append(f"{texts[0]}: {texts[1]}")
        elif texts:
            lines.append(" | ".join(texts))
    return lines
