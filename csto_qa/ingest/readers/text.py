"""Plain text and Markdown: UTF-8 (BOM or not) or UTF-16 with a BOM; nothing is guessed."""

from __future__ import annotations

import unicodedata

from csto_qa.ingest.readers import ExtractedText, UnreadableDocument


def read(raw: bytes) -> ExtractedText:
    """The file's text with line ends made ``\\n`` and NFC applied (offsets refer to it).

    UTF-8 (with or without a BOM) is read, and so is UTF-16 with a BOM (what Windows
    editors save as "Unicode"); anything else is refused rather than guessed at.
    """
    encoding = "utf-8-sig"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif b"\x00" in raw[:8192]:
        raise UnreadableDocument("it looks binary (it holds NUL bytes), not like text")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"it is not {encoding.upper().removesuffix('-SIG')} text (bad byte at offset {exc.start}); "
            "save it as UTF-8, e.g. with: iconv -f WINDOWS-1252 -t UTF-8"
        ) from None
    if not text.strip():
        raise UnreadableDocument("it is empty (no text, only whitespace or nothing at all)")
    return ExtractedText(unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")))
