"""Typed records that flow through the pipeline: Document, Chunk, Hit, Passage, Answer.

Every record is a plain dataclass with ``to_dict``/``from_dict`` so it can be stored as
JSON Lines in the index and returned as JSON by the CLI and the app, never pickled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**_pick(cls, data))


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a line that acts as one) of a document: ``text[start:end]``."""

    doc_id: str
    start: int
    end: int

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
    """

    chunk_id: int
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    text: str
    sentences: tuple[int, int] = (0, 0)

    @property
    def index_text(self) -> str:
        """Text given to BM25 and the encoder: the section heading adds useful context."""
        return f"{self.section}. {self.text}" if self.section else self.text

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
    scaled focus support of the lead passage (see :mod:`csto_qa.decline`). ``answer``,
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
