"""Chunking: documents into sentence-aligned passages that keep their section and offsets.

A document is read line by line. Short title-like lines followed by prose are section
headings; lines of table rules and image stubs (``|``, ``---|---|``, ``![]()``) are skipped
but do not split a passage; a long reference list at the end of a document is left out
of the index (it stays in the document, so it is still visible in context).
Passages never cut a sentence, never cross a heading and overlap by one short sentence.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from csto_qa.errors import CstoQaError
from csto_qa.records import Chunk, Document, Sentence
from csto_qa.sentences import split_line, split_long

CHUNKER_VERSION = 1

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_TERMINAL = tuple('.!?:;"”’)…,')
_REFERENCE = re.compile(
    r"\bRetrieved \d|\bArchived\b.*\bfrom the original\b|\bISBN\b|\(PDF\)|\bdoi:|\bS2CID\b"
    r"|^\d{1,2} [A-Z][a-z]+ \d{4}\.$|^[A-Z][\w.&/ -]{1,40}\.$"
)


@dataclass(frozen=True)
class ChunkParams:
    """Passage size in words. Defaults chosen with ``csto-qa eval`` (see the README)."""

    target_words: int = 90
    max_words: int = 150
    min_words: int = 30
    overlap_words: int = 35  # carry the last sentence over when it is at most this long

    def __post_init__(self) -> None:
        if not 10 <= self.target_words <= self.max_words:
            raise CstoQaError(
                f"chunk target_words={self.target_words} must be between 10 and max_words={self.max_words}"
            )
        if not 0 <= self.min_words <= self.target_words:
            raise CstoQaError(f"chunk min_words={self.min_words} must be in 0..target_words")
        if self.overlap_words < 0:
            raise CstoQaError(f"chunk overlap_words={self.overlap_words} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkParams:
        return cls(**{k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class _Unit:
    """A sentence with the section it belongs to and its word count."""

    start: int
    end: int
    section: str
    words: int
    run: int  # units of different runs (separated by a heading) never share a passage


def _is_noise(line: str) -> bool:
    """Table rules, lone pipes and image stubs: fewer than two letters once markup is gone."""
    return len(_LETTERS.findall(re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line))) < 2


def _is_prose(line: str) -> bool:
    return len(line.split()) >= 12 or line.rstrip().endswith(_TERMINAL)


def _heading_ok(line: str, max_words: int) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped.split()) <= max_words
        and not stripped.endswith(_TERMINAL)
        and "|" not in stripped
        and "http" not in stripped
        and (stripped[0].isupper() or stripped[0].isdigit())
    )


def _headings(lines: list[str]) -> set[int]:
    """Indexes of heading lines: short lines followed by prose (or by a sub-heading and prose)."""
    content = [i for i, line in enumerate(lines) if line.strip() and not _is_noise(line)]
    found: set[int] = set()
    for pos, i in enumerate(content):
        nxt = content[pos + 1] if pos + 1 < len(content) else None
        after = content[pos + 2] if pos + 2 < len(content) else None
        if nxt is None or not _heading_ok(lines[i], 10):
            continue
        if _is_prose(lines[nxt]) and not _heading_ok(lines[nxt], 10):
            found.add(i)
        elif (
            _heading_ok(lines[i], 4)
            and _heading_ok(lines[nxt], 8)
            and after is not None
            and _is_prose(lines[after])
        ):
            found.add(i)
    return found


def _reference_tail(text: str, units: list[_Unit]) -> int:
    """Index of the first unit of a trailing reference list, or ``len(units)`` if none.

    The tail starts at the first window of 12 units of which at least 5 look like
    citations, provided at least 20 citation-like units follow it.
    """
    flags = [bool(_REFERENCE.search(text[u.start : u.end])) for u in units]
    if sum(flags) < 20:
        return len(units)
    for i in range(len(units)):
        if flags[i] and sum(flags[i : i + 12]) >= 5 and sum(flags[i:]) >= 20:
            return i
    return len(units)


def segment(doc: Document, max_words: int = 150) -> list[_Unit]:
    """The document's sentences with their sections; reference tails removed."""
    text = doc.text
    lines = text.split("\n")
    headings = _headings(lines)
    units: list[_Unit] = []
    offset, section, run, last_heading = 0, "", 0, -2
    for i, line in enumerate(lines):
        start, end = offset, offset + len(line)
        offset = end + 1
        if i in headings:
            title = line.strip()
            # The first line of a page is its title, not a section of it.
            if i == 0 or (not units and title.casefold() == doc.title.casefold()):
                section = ""
            elif last_heading == i - 1 and section:
                section = f"{section} › {title}"
            else:
                section = title
            last_heading = i
            run += 1
            continue
        if not line.strip() or _is_noise(line):
            continue
        for s, e in split_line(text, start, end):
            spans = [(s, e)]
            if len(text[s:e].split()) > max_words:
                spans = split_long(text, s, e, max_words)
            for ps, pe in spans:
                units.append(_Unit(ps, pe, section, len(text[ps:pe].split()), run))
    return units[: _reference_tail(text, units)]


def _pack(units: list[_Unit], params: ChunkParams) -> list[tuple[int, int]]:
    """Greedy packing of one run of units into ``[first, last)`` unit ranges."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and (j == i or words + units[j].words <= params.max_words):
            words += units[j].words
            j += 1
            if words >= params.target_words:
                break
        if groups and words < params.min_words:
            first, _ = groups[-1]
            merged = sum(u.words for u in units[first:j])
            if merged <= params.max_words + params.min_words:
                groups[-1] = (first, j)
                break
        groups.append((i, j))
        if j >= len(units):
            break
        # One short sentence of overlap keeps an answer that straddles two passages whole.
        i = j - 1 if j - 1 > i and units[j - 1].words <= params.overlap_words else j
    return groups


def chunk_document(
    doc: Document,
    params: ChunkParams | None = None,
    first_chunk_id: int = 0,
    first_sentence_id: int = 0,
) -> tuple[list[Sentence], list[Chunk]]:
    """Sentences and passages of one document, with global ids starting at the given ones."""
    params = params or ChunkParams()
    units = segment(doc, params.max_words)
    sentences = [Sentence(doc.doc_id, u.start, u.end) for u in units]
    chunks: list[Chunk] = []
    run_start = 0
    for k in range(1, len(units) + 1):
        if k < len(units) and units[k].run == units[run_start].run:
            continue
        for a, b in _pack(units[run_start:k], params):
            first, last = units[run_start + a], units[run_start + b - 1]
            chunks.append(
                Chunk(
                    chunk_id=first_chunk_id + len(chunks),
                    doc_id=doc.doc_id,
                    title=doc.title,
                    section=first.section,
                    start=first.start,
                    end=last.end,
                    text=doc.text[first.start : last.end],
                    sentences=(first_sentence_id + run_start + a, first_sentence_id + run_start + b),
                )
            )
        run_start = k
    return sentences, chunks


def chunk_corpus(
    documents: list[Document], params: ChunkParams | None = None
) -> tuple[list[Sentence], list[Chunk]]:
    """Sentences and passages of every document, with corpus-wide ids."""
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    for doc in documents:
        doc_sentences, doc_chunks = chunk_document(doc, params, len(chunks), len(sentences))
        sentences.extend(doc_sentences)
        chunks.extend(doc_chunks)
    return sentences, chunks
