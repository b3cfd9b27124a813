"""Chunking: documents into sentence-aligned passages that keep their section and offsets.

``csto_qa.ingest.structure`` says what each line of a document is: prose, a heading, an info-box
or table field, or debris (table rules, image stubs, navigation, "Contents" lists, "See
also" / "References" blocks, repeated page furniture). Prose is split into sentences;
each field is one unit of its own, shown as ``Name: value``; bibliography entries are found
sentence by sentence. Debris is never a unit: it stays in the document (visible in
context) and is counted, per reason, in the document's ``ChunkAccount``. A reference list
ends its article, not the file: prose after it is indexed.
Passages never cut a sentence, never cross a heading or a block of debris, never go on
from a table into prose, and overlap by one short sentence. Every step is linear in
the length of the text (tests/ingest/test_chunking.py checks 4x input costs < 8x CPU time). Measured
here: a 2 MB run-on sentence 0.73 s, 2 MB without a space 0.34 s, 2 MB of dots 0.94 s (the
old sentence-boundary regex took 112 s for 80 kB of dots: quadratic); the four corpus
documents 8 ms for structure detection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from csto_qa.errors import CstoQaError
from csto_qa.ingest.citations import citation_runs
from csto_qa.ingest.sentences import split_span
from csto_qa.ingest.structure import ItemKind, Reason, analyse
from csto_qa.records import Chunk, Document, Sentence

# 2: structure detection (fields as units, debris and reference blocks left out, accounts).
CHUNKER_VERSION = 2

# Debris that only decorates a table: it neither ends a passage nor is one.
_INLINE_DEBRIS = frozenset({Reason.TABLE_RULES, Reason.IMAGES, Reason.TABLE_HEADERS})


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
class ChunkAccount:
    """Where the characters of one document went: indexed, or left out and why.

    ``indexed`` counts the characters of its sentences and headings; ``left_out`` maps a
    reason (``Reason.value``) to characters. The rest is whitespace between them and the
    cell borders (``|``) around table fields.
    """

    doc_id: str
    characters: int
    indexed: int
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for the build report: ``doc: 8,674 characters, 6,010 indexed; left out: ...``."""
        reasons = ", ".join(
            f"{n:,} {reason}" for reason, n in sorted(self.left_out.items(), key=lambda kv: -kv[1])
        )
        return (
            f"{self.doc_id}: {self.characters:,} characters, {self.indexed:,} indexed; "
            f"left out: {reasons or 'nothing'}"
        )


@dataclass(frozen=True)
class ChunkedDocument:
    sentences: list[Sentence]
    chunks: list[Chunk]
    account: ChunkAccount


@dataclass(frozen=True)
class ChunkedCorpus:
    """Sentences and passages of a corpus with corpus-wide ids, and one account per document."""

    sentences: list[Sentence]
    chunks: list[Chunk]
    accounts: list[ChunkAccount]


@dataclass(frozen=True)
class _Unit:
    """A sentence or a field, with its section, word count and run.

    Units of different runs (separated by a heading, a block of debris, a reference list
    or the border between a table and prose) never share a passage.
    """

    start: int
    end: int
    section: str
    words: int
    run: int
    display: str = ""  # fields only: "Name: value"


@dataclass
class _Draft:
    start: int
    end: int
    section: str
    group: int
    fact: bool
    display: str = ""


def segment(doc: Document, max_words: int = 150) -> tuple[list[_Unit], ChunkAccount]:
    """The document's units with their sections and runs, and the account of its text."""
    text = doc.text
    drafts: list[_Draft] = []
    left_out: Counter[str] = Counter()
    headings = 0
    section, group, last_heading_end = "", 0, -2
    for position, item in enumerate(analyse(text)):
        if item.kind is ItemKind.HEADING:
            title = text[item.start : item.end]
            headings += item.end - item.start
            # The first line of a page is its title, not a section of it.
            if position == 0 or (not drafts and title.casefold() == doc.title.casefold()):
                section = ""
            elif section and not text[last_heading_end : item.start].strip():
                section = f"{section} › {title}"
            else:
                section = title
            last_heading_end = item.end
            group += 1
        elif item.kind is ItemKind.LEFT_OUT and item.reason is not None:
            left_out[item.reason.value] += item.end - item.start
            if item.reason not in _INLINE_DEBRIS:
                group += 1
        elif item.kind is ItemKind.FACT and len(item.display.split()) <= max_words:
            drafts.append(_Draft(item.start, item.end, section, group, True, item.display))
        else:  # prose, a caption, or a field too long to be one unit
            # A picture's caption is a passage of its own: it describes what the text cannot show.
            caption = item.kind is ItemKind.CAPTION
            group += caption
            spans = split_span(text, item.start, item.end, max_words)
            drafts.extend(_Draft(s, e, section, group, False) for s, e in spans)
            group += caption
    # Bibliography entries, found sentence by sentence among the prose.
    prose = [d for d in drafts if not d.fact]
    flags = dict(
        zip((id(d) for d in prose), citation_runs([text[d.start : d.end] for d in prose]), strict=True)
    )
    units: list[_Unit] = []
    run, previous, dropped = 0, None, False
    for draft in drafts:
        if flags.get(id(draft), False):
            left_out[Reason.REFERENCES.value] += draft.end - draft.start
            dropped = True
            continue
        # A table goes with the prose that introduces it, but the prose after a table (or
        # after an info-box, at the top of a page) starts a passage of its own.
        if previous is not None and (
            dropped or draft.group != previous.group or (previous.fact and not draft.fact)
        ):
            run += 1
        words = len((draft.display or text[draft.start : draft.end]).split())
        units.append(_Unit(draft.start, draft.end, draft.section, words, run, draft.display))
        previous, dropped = draft, False
    indexed = headings + sum(u.end - u.start for u in units)
    return units, ChunkAccount(doc.doc_id, len(text), indexed, dict(left_out))


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


def _display(text: str, units: list[_Unit]) -> str:
    """The passage without the debris inside its span ("" when the span has none)."""
    if not any(u.display for u in units) and all(
        not text[a.end : b.start].strip() for a, b in zip(units, units[1:], strict=False)
    ):
        return ""
    parts = [units[0].display or text[units[0].start : units[0].end]]
    for a, b in zip(units, units[1:], strict=False):
        gap = text[a.end : b.start]
        parts.append(gap if not gap.strip() and not (a.display or b.display) else "\n")
        parts.append(b.display or text[b.start : b.end])
    return "".join(parts)


def chunk_document(
    doc: Document,
    params: ChunkParams | None = None,
    first_chunk_id: int = 0,
    first_sentence_id: int = 0,
) -> ChunkedDocument:
    """Sentences, passages and account of one document, with global ids from the given ones."""
    params = params or ChunkParams()
    units, account = segment(doc, params.max_words)
    sentences = [Sentence(doc.doc_id, u.start, u.end, u.display) for u in units]
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
                    display=_display(doc.text, units[run_start + a : run_start + b]),
                )
            )
        run_start = k
    return ChunkedDocument(sentences, chunks, account)


def chunk_corpus(documents: list[Document], params: ChunkParams | None = None) -> ChunkedCorpus:
    """Sentences and passages of every document, with corpus-wide ids, and their accounts."""
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    accounts: list[ChunkAccount] = []
    for doc in documents:
        done = chunk_document(doc, params, len(chunks), len(sentences))
        sentences.extend(done.sentences)
        chunks.extend(done.chunks)
        accounts.append(done.account)
    return ChunkedCorpus(sentences, chunks, accounts)
