"""Readers: one module per file format, each turning a file's bytes into ``ExtractedText``.

``read(raw, suffix)`` dispatches by the file's suffix. The extracted text is what the
index stores and what every offset points into, so a reader does all of its cleaning
(reflowed lines, dropped page furniture, NFC) before it returns, never after.
A file that cannot be used raises ``UnreadableDocument`` with the reason, which ingest
turns into one warning naming the file; the other files are still indexed.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from dataclasses import dataclass

from csto_qa.errors import CorpusError

# Suffix → reader module (imported only when a file of that kind is read).
READERS = {
    ".txt": "text",
    ".md": "text",
    ".text": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUFFIXES = tuple(READERS)
# Formats people will try that no reader takes: a hint instead of silence.
UNSUPPORTED = {
    ".doc": "old binary Word files are not read; save it as .docx or .pdf",
    ".docm": "macro-enabled Word files are not read; save it as .docx",
    ".odt": "OpenDocument files are not read; save it as .docx or .pdf",
    ".rtf": "RTF files are not read; save it as .docx or .pdf",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")


class UnreadableDocument(CorpusError):
    """This file cannot be indexed; the message says why (ingest prefixes the file name)."""


@dataclass(frozen=True)
class ExtractedText:
    """The text of one file as the index keeps it.

    ``pages`` holds the offset in ``text`` where each page starts (``pages[0] == 0``) for
    paged formats (PDF), and is empty otherwise. ``title`` is the file's own title
    (metadata or first heading), or "" when it has none. ``notes`` say what part of the
    file was left out and why ("page 7 cannot be read: ..."), so nothing is lost unsaid.
    """

    text: str
    title: str = ""
    pages: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()  # what was left out and why (ingest shows each as a warning)


def clean_line(text: str) -> str:
    """One line of extracted text: NFC, control and zero-width characters gone, spaces collapsed."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def clean_title(title: object) -> str:
    """A metadata title fit to show: text, one line, at most 200 characters, or ""."""
    if not isinstance(title, str):
        return ""
    return clean_line(title)[:200]


def read(raw: bytes, suffix: str) -> ExtractedText:
    """The text of a file of the given suffix; raises ``UnreadableDocument`` with the reason."""
    name = READERS.get(suffix.lower())
    if name is None:
        raise UnreadableDocument(UNSUPPORTED.get(suffix.lower(), f"'{suffix}' files are not read"))
    module = importlib.import_module(f"csto_qa.ingest.readers.{name}")
    result: ExtractedText = module.read(raw)
    return result
