"""Retrieval evaluation set: data model, loader and corpus consistency checks.

The set is a JSONL file (one JSON object per line) with the fields
``id``, ``question``, ``answers``, ``docs``, ``category`` and ``answerable``.
A passage counts as relevant to a question when it contains any of the
question's answer strings (after whitespace normalisation, see
:func:`normalize_whitespace`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CATEGORIES",
    "MIN_CATEGORY_COUNTS",
    "EvalQuestion",
    "EvalSetError",
    "check_against_corpus",
    "default_questions_path",
    "load_questions",
    "normalize_whitespace",
    "parse_question",
]

CATEGORIES: tuple[str, ...] = (
    "lexical",
    "paraphrase",
    "dates_numbers",
    "people_countries",
    "analyst_page",
    "kids_page",
    "unanswerable",
)
"""Allowed values of the ``category`` field."""

MIN_CATEGORY_COUNTS: dict[str, int] = {
    "lexical": 15,
    "paraphrase": 15,
    "dates_numbers": 12,
    "people_countries": 12,
    "analyst_page": 8,
    "kids_page": 8,
    "unanswerable": 12,
}
"""Minimum number of questions per category in the shipped set."""

_FIELDS: dict[str, type] = {
    "id": str,
    "question": str,
    "answers": list,
    "docs": list,
    "category": str,
    "answerable": bool,
}

_WS_RE = re.compile(r"\s+")


class EvalSetError(ValueError):
    """Raised when an evaluation-set file is malformed."""


@dataclass(frozen=True)
class EvalQuestion:
    """One evaluation question with its answer strings and relevant documents."""

    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    category: str
    answerable: bool

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (lists instead of tuples)."""
        return {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "docs": list(self.docs),
            "category": self.category,
            "answerable": self.answerable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalQuestion:
        """Build a question from a dict; raises ``EvalSetError`` if invalid."""
        return parse_question(data)


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace (incl. newlines, NBSP) to one space."""
    return _WS_RE.sub(" ", text).strip()


def parse_question(data: Any) -> EvalQuestion:
    """Validate one decoded JSON object and turn it into an ``EvalQuestion``.

    Raises ``EvalSetError`` with a message describing the first problem.
    """
    if not isinstance(data, Mapping):
        raise EvalSetError(f"expected a JSON object, got {type(data).__name__}")
    for name, typ in _FIELDS.items():
        if name not in data:
            raise EvalSetError(f"missing field {name!r}")
        value = data[name]
        if not isinstance(value, typ):
            raise EvalSetError(f"field {name!r} must be {typ.__name__}, got {type(value).__name__}")
    for name in ("answers", "docs"):
        for item in data[name]:
            if not isinstance(item, str) or not item.strip():
                raise EvalSetError(f"field {name!r} must contain non-empty strings")
    if not data["id"].strip():
        raise EvalSetError("field 'id' must not be empty")
    if not data["question"].strip():
        raise EvalSetError("field 'question' must not be empty")
    if data["category"] not in CATEGORIES:
        raise EvalSetError(f"unknown category {data['category']!r} (allowed: {', '.join(CATEGORIES)})")
    answerable = data["answerable"]
    if answerable and not data["answers"]:
        raise EvalSetError("answerable question has no answers")
    if answerable and not data["docs"]:
        raise EvalSetError("answerable question has no docs")
    if not answerable and (data["answers"] or data["docs"]):
        raise EvalSetError("unanswerable question must have empty answers and docs")
    if (data["category"] == "unanswerable") == bool(answerable):
        raise EvalSetError("category 'unanswerable' must go with answerable=false and vice versa")
    return EvalQuestion(
        id=data["id"],
        question=data["question"],
        answers=tuple(data["answers"]),
        docs=tuple(data["docs"]),
        category=data["category"],
        answerable=answerable,
    )


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read and validate a JSONL evaluation set; blank lines are skipped.

    Raises ``EvalSetError`` naming the file and line number of the problem.
    """
    path = Path(path)
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalSetError(f"{where}: invalid JSON: {exc.msg}") from exc
            try:
                question = parse_question(data)
            except EvalSetError as exc:
                raise EvalSetError(f"{where}: {exc}") from None
            if question.id in seen:
                raise EvalSetError(
                    f"{where}: duplicate id {question.id!r} (first seen on line {seen[question.id]})"
                )
            seen[question.id] = lineno
            questions.append(question)
    return questions


def check_against_corpus(
    questions: Iterable[EvalQuestion],
    corpus_texts: Mapping[str, str],
    *,
    require_complete_docs: bool = True,
) -> list[str]:
    """Check answer strings and doc lists against the corpus texts.

    ``corpus_texts`` maps document ids (file stems) to full texts. Matching is
    an exact, case-sensitive substring test after whitespace normalisation.
    Problems reported (empty list = OK):

    * a listed doc is not in the corpus;
    * an answer string occurs in none of the listed docs;
    * a listed doc contains none of the answer strings;
    * (``require_complete_docs``) a doc that is *not* listed contains an
      answer string, i.e. ``docs`` is incomplete or the string is too generic.
    """
    norm = {doc_id: normalize_whitespace(text) for doc_id, text in corpus_texts.items()}
    problems: list[str] = []
    for q in questions:
        if not q.answerable:
            continue
        answers = [normalize_whitespace(a) for a in q.answers]
        for doc_id in q.docs:
            if doc_id not in norm:
                problems.append(f"{q.id}: doc {doc_id!r} not in corpus")
        listed = [d for d in q.docs if d in norm]
        for raw, ans in zip(q.answers, answers, strict=True):
            if not any(ans in norm[d] for d in listed):
                problems.append(f"{q.id}: answer {raw!r} not found in docs {list(q.docs)}")
        for doc_id in listed:
            if not any(ans in norm[doc_id] for ans in answers):
                problems.append(f"{q.id}: doc {doc_id!r} contains none of the answers")
        if require_complete_docs:
            for doc_id, text in norm.items():
                if doc_id in q.docs:
                    continue
                hits = [raw for raw, ans in zip(q.answers, answers, strict=True) if ans in text]
                if hits:
                    problems.append(f"{q.id}: unlisted doc {doc_id!r} contains answer(s) {hits}")
    return problems


def default_questions_path() -> Path:
    """Return ``<repo>/corpus/eval/questions.jsonl`` (relative to the package)."""
    return Path(__file__).resolve().parent.parent / "corpus" / "eval" / "questions.jsonl"
