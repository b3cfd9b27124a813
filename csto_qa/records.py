"""Typed records that flow through the pipeline: Document, Chunk, Hit, Passage, Answer.

Every record is a plain dataclass with ``to_dict``/``from_dict`` so it can be stored as
JSON Lines in the index and returned as JSON by the CLI and the app, never pickled.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypedDict


def _pick(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys ``cls`` declares, so newer files with extra keys still load."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


@dataclass(frozen=True)
class Document:
    """One source file of the corpus, with its text exactly as the chunk offsets refer to it."""

    doc_id: str
    title: str
    text: str
    path: str = ""
    source: str = ""
    licence: str = ""
    sha256: str = ""
    # Offset in ``text`` where each page starts, for paged formats (PDF); empty otherwise.
    pages: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pages"] = list(self.pages)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        data = _pick(cls, data)
        pages = data.get("pages", ())
        # Anything but a list of whole numbers is dropped: pages only label a citation.
        ok = isinstance(pages, list | tuple) and all(type(p) is int for p in pages)
        ok = ok and all(a <= b for a, b in zip(pages, pages[1:], strict=False))
        data["pages"] = tuple(pages) if ok else ()
        return cls(**data)


class PageSpan(TypedDict):
    page_start: int | None
    page_end: int | None


def page_span(pages: tuple[int, ...] | list[int], start: int, end: int) -> PageSpan:
    """The 1-based pages on which ``text[start:end]`` lies, given each page's start offset.

    ``None`` for both when the document is not paged. ``page_span((0, 100), 120, 130)``
    is pages 2–2; ``page_span((0, 100), 90, 130)`` is pages 1–2.
    """
    if not pages:
        return {"page_start": None, "page_end": None}
    first = max(bisect_right(pages, start), 1)
    return {"page_start": first, "page_end": max(bisect_right(pages, max(end - 1, start)), first)}


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a line that acts as one) of a document: ``text[start:end]``.

    ``display`` is empty for prose. For an info-box or table field it is the field as
    ``Name: value`` (``Headquarters: Moscow, Russia``), while ``start:end`` still spans the
    original lines (``Headquarters | Moscow, Russia``). The display form is what the
    embedding sees and what a UI should show; offsets always refer to the original.
    """

    doc_id: str
    start: int
    end: int
    display: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sentence:
        return cls(**_pick(cls, data))


@dataclass(frozen=True)
class Chunk:
    """A passage: consecutive sentences of one document, ``document.text[start:end] == text``.

    ``sentences`` is the half-open range of global sentence ids the passage is made of,
    which lets the answer step highlight a sentence without re-splitting the text.

    ``text`` is always the original span (``document.text[start:end]``), debris between
    its sentences included (a table rule between two info-box fields). ``display`` is empty
    when that span is clean; otherwise it is the passage as it should be read: its
    sentences in order, fields as ``Name: value``, debris left out. ``index_text`` (what
    BM25 and the encoder see) uses ``display`` when there is one; a UI should show it too.
    """

    chunk_id: int
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    text: str
    sentences: tuple[int, int] = (0, 0)
    display: str = ""

    @property
    def readable(self) -> str:
        """The passage as a reader should see it: ``display`` if set, else ``text``."""
        return self.display or self.text

    @property
    def index_text(self) -> str:
        """Text given to BM25 and the encoder: the section heading adds useful context."""
        return f"{self.section}. {self.readable}" if self.section else self.readable

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentences"] = list(self.sentences)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        data = _pick(cls, data)
        data["sentences"] = tuple(data.get("sentences", (0, 0)))
        return cls(**data)


@dataclass
class Hit:
    """A retrieved chunk with the evidence of each retriever (``None`` where it did not rank it)."""

    chunk_id: int
    score: float
    bm25_score: float | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SourceRef:
    """Where a passage (or a near-identical copy of it) stands in one document."""

    doc: str
    title: str
    section: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceRef:
        return cls(**_pick(cls, data))


@dataclass
class Passage:
    """One citation of an answer. The JSON keys of ``to_dict`` are a public contract."""

    rank: int
    doc: str
    title: str
    section: str
    start: int
    end: int
    text: str
    highlight: str
    highlight_start: int
    highlight_end: int
    score: float
    bm25_score: float | None
    bm25_rank: int | None
    dense_score: float | None
    dense_rank: int | None
    sources: list[str]
    chunk_id: int = -1
    matched_terms: list[str] = field(default_factory=list)
    copies: list[SourceRef] = field(default_factory=list)
    # The phrase of the expected answer type inside ``highlight`` (a date, a number, a
    # name...): ``document.text[answer_start:answer_end] == answer``; ``None`` when the
    # question asks for no such type or the sentence holds none.
    answer: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    # How the passage and its highlighted sentence read when the original span holds
    # page debris or table markup (``Headquarters | Moscow, Russia``): fields as
    # ``Name: value``, debris left out. Empty when the original reads as it is. ``text``
    # and ``highlight`` stay the exact document spans; a UI shows these when set.
    display: str = ""
    highlight_display: str = ""
    page_start: int | None = None  # 1-based pages of a paged document (PDF), else None
    page_end: int | None = None

    @property
    def page_label(self) -> str:
        """ "page 4", "pages 4–5", or "" when the document has no pages."""
        if self.page_start is None:
            return ""
        if self.page_end is None or self.page_end == self.page_start:
            return f"page {self.page_start}"
        return f"pages {self.page_start}–{self.page_end}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["copies"] = [c.to_dict() for c in self.copies]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        data = _pick(cls, data)
        data["copies"] = [SourceRef.from_dict(c) for c in data.get("copies", [])]
        return cls(**data)


@dataclass
class Answer:
    """The engine's reply: cited passages led by the answering sentence, or a decline.

    ``abstained`` is True when the engine gives no answer. Then ``message`` says why, and
    ``passages`` is either empty (nothing in the documents is close: an off-topic question,
    an empty question or corpus) or holds the closest passages with ``folded`` True: the
    documents are on the topic but do not support the question's focus, so the passages
    are shown collapsed, as leads to read, not as an answer. When ``abstained`` is False,
    ``folded`` is False and ``passages[0]`` holds the lead sentence (its ``highlight``).

    ``confidence`` is the score the decline rule thresholds (``abstain_threshold`` in
    :class:`csto_qa.config.EngineSettings`): the smaller of the question-evidence cosine and
    scaled focus support of the lead passage (see :mod:`csto_qa.answer.decline`). ``answer``,
    ``answer_start``, ``answer_end`` and ``answer_doc`` repeat the lead passage's answer
    phrase (``None`` when there is none or the engine declined).
    """

    question: str
    query: str
    mode: str
    abstained: bool
    passages: list[Passage]
    confidence: float = 0.0
    message: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    folded: bool = False
    missing: list[str] = field(default_factory=list)  # focus words no close passage supports
    answer: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    # How the passage and its highlighted sentence read when the original span holds
    # page debris or table markup (``Headquarters | Moscow, Russia``): fields as
    # ``Name: value``, debris left out. Empty when the original reads as it is. ``text``
    # and ``highlight`` stay the exact document spans; a UI shows these when set.
    display: str = ""
    highlight_display: str = ""
    answer_doc: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "mode": self.mode,
            "abstained": self.abstained,
            "confidence": self.confidence,
            "message": self.message,
            "folded": self.folded,
            "missing": list(self.missing),
            "answer": self.answer,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "answer_doc": self.answer_doc,
            "passages": [p.to_dict() for p in self.passages],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            question=data["question"],
            query=data.get("query", data["question"]),
            mode=data.get("mode", "hybrid"),
            abstained=bool(data["abstained"]),
            passages=[Passage.from_dict(p) for p in data.get("passages", [])],
            confidence=float(data.get("confidence", 0.0)),
            message=data.get("message", ""),
            folded=bool(data.get("folded", False)),
            missing=list(data.get("missing", [])),
            answer=data.get("answer"),
            answer_start=data.get("answer_start"),
            answer_end=data.get("answer_end"),
            answer_doc=data.get("answer_doc"),
        )
