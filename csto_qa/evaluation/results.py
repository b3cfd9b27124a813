"""The records of an evaluation run: one question's result, a mode's summary, the report.

Plain dataclasses with ``to_dict`` / ``from_dict``, so ``results.json`` reads back into the
same report (``csto-qa eval --from results.json`` re-renders without asking again).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class QuestionResult:
    """What one mode returned for one question, judged against its answer strings."""

    id: str
    question: str
    category: str
    answerable: bool
    mode: str
    query: str
    answers: list[str]
    flags: list[bool]  # relevance of the returned passages, best first
    n_relevant: int  # indexed chunks whose text contains an answer string
    confidence: float
    abstained: bool  # the engine's own decision (``Answer.abstained``, or no passage at all)
    passage_words: list[int]
    top: dict[str, Any] | None  # the first passage returned: doc, section, chunk_id, text, highlight
    scope: str | None = None  # unanswerable questions: "off_topic" / "on_topic" (None: unlabelled)
    lead_correct: bool = False  # the first passage's highlighted sentence holds an answer string
    phrase: str | None = None  # the answer phrase the engine marked in it (None: none marked)
    phrase_correct: bool = False
    history: list[str] = field(default_factory=list)
    # Follow-ups only: the ranked list's relevance for the question alone ("alone") and
    # for the previous question and this one joined ("joined"), next to ``flags``
    # (the engine with the history, as the app asks it).
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def first_relevant(self) -> int | None:
        from csto_qa.evaluation.metrics import first_relevant_rank

        return first_relevant_rank(self.flags)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_relevant"] = self.first_relevant
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass
class ModeSummary:
    """Figures of one mode: overall, per category, abstention and the questions it missed."""

    mode: str
    metrics: dict[str, float]
    categories: dict[str, dict[str, float]]
    recall_curve: list[float]  # answer-recall@1..k
    abstention: list[dict[str, float]]  # declined shares at each threshold of THRESHOLDS
    misses: list[dict[str, Any]] = field(default_factory=list)
    # Answering only above a confidence threshold (CURVE_THRESHOLDS): coverage / precision,
    # and the engine's own operating point (its decisions, whatever its rule is).
    precision_coverage: list[dict[str, float | None]] = field(default_factory=list)
    operating_point: dict[str, float | None] = field(default_factory=dict)
    follow_up: dict[str, float] = field(default_factory=dict)  # see :func:`follow_up_figures`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModeSummary:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass
class EvalReport:
    """The result of :func:`evaluate`; ``to_dict`` is what ``results.json`` holds."""

    k: int
    cutoffs: list[int]
    depth: int
    modes: list[str]
    questions_file: str
    n_questions: int
    n_answerable: int
    n_unanswerable: int
    settings: dict[str, Any]
    index: dict[str, Any]
    summaries: dict[str, ModeSummary]
    results: list[QuestionResult]
    seconds: float
    # Answerable questions none of whose answer strings fits inside one indexed sentence: a
    # one-sentence lead can never be right for them (see :func:`lead_unreachable`).
    lead_unreachable: list[str] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        seen = dict.fromkeys(r.category for r in self.results)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["summaries"] = {mode: s.to_dict() for mode, s in self.summaries.items()}
        # Passage texts are kept for the misses only, so the file stays small.
        data["results"] = [r.to_dict() for r in self.results]
        for row in data["results"]:
            if row["top"]:
                row["top"].pop("text", None)
                row["top"].pop("highlight", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Read back ``results.json`` (e.g. to re-render the report without re-running)."""
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        fields["summaries"] = {m: ModeSummary.from_dict(s) for m, s in data["summaries"].items()}
        fields["results"] = [QuestionResult.from_dict(r) for r in data["results"]]
        return cls(**fields)
