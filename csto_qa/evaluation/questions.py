"""Retrieval evaluation set: data model, loader and corpus consistency checks.

The set is a JSONL file (one JSON object per line) with the fields
``id``, ``question``, ``answers``, ``docs``, ``category`` and ``answerable``, and the
optional ``scope`` and ``probe`` (unanswerable questions: off- or on-topic, and the key
answer word that must not occur in the corpus) and ``history`` (the earlier turns of a
follow-up question). A passage counts as relevant to a question when it contains any of
the question's answer strings (after whitespace normalisation, see
:func:`normalize_whitespace`).

Each line is read with a size and a nesting-depth limit (:data:`MAX_LINE_CHARS`,
:data:`MAX_JSON_DEPTH`), so a hostile line is a one-line error, not a RecursionError.
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
    "MAX_JSON_DEPTH",
    "MAX_LINE_CHARS",
    "MIN_CATEGORY_COUNTS",
    "SCOPES",
    "EvalQuestion",
    "EvalSetError",
    "check_against_corpus",
    "default_questions_path",
    "load_questions",
    "loads_bounded",
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
    "follow_up",
    "unanswerable",
)
"""Allowed values of the ``category`` field."""

SCOPES: tuple[str, ...] = ("off_topic", "on_topic")
"""Allowed values of the optional ``scope`` field of an unanswerable question."""

MIN_CATEGORY_COUNTS: dict[str, int] = {
    "lexical": 15,
    "paraphrase": 15,
    "dates_numbers": 12,
    "people_countries": 12,
    "analyst_page": 8,
    "kids_page": 8,
    "follow_up": 20,
    "unanswerable": 50,
}
"""Minimum number of questions per category in the shipped set."""

MIN_ON_TOPIC_UNANSWERABLE = 40
"""Minimum number of on-topic unanswerable questions (each with a probe) in the shipped set."""

MAX_LINE_CHARS = 20_000  # a question line is a few hundred characters
MAX_JSON_DEPTH = 8  # the format nests two levels (an object holding lists)
MAX_HISTORY = 10  # earlier turns a follow-up may carry (the engine looks at as many)

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


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text, ignoring brackets inside strings (linear)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_bounded(text: str, *, max_chars: int = MAX_LINE_CHARS, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with a size and a nesting limit; every failure is an ``EvalSetError``.

    The standard parser recurses once per nesting level (RecursionError near 1,000) and
    refuses integers past 4,300 digits with a ValueError; both become a plain message.
    """
    if len(text) > max_chars:
        raise EvalSetError(f"line is {len(text):,} characters long (the limit is {max_chars:,})")
    depth = _json_depth(text)
    if depth > max_depth:
        raise EvalSetError(f"JSON nested {depth} levels deep (the limit is {max_depth})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise EvalSetError(f"invalid JSON: {str(exc).split(';')[0]}") from None


@dataclass(frozen=True)
class EvalQuestion:
    """One evaluation question with its answer strings and relevant documents."""

    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    category: str
    answerable: bool
    scope: str | None = None  # unanswerable only: "off_topic" or "on_topic"
    probe: tuple[str, ...] = ()  # unanswerable only: key answer words absent from the corpus
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (lists instead of tuples; unset optional keys left out)."""
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "docs": list(self.docs),
            "category": self.category,
            "answerable": self.answerable,
        }
        if self.scope is not None:
            data["scope"] = self.scope
        if self.probe:
            data["probe"] = list(self.probe)
        if self.history:
            data["history"] = list(self.history)
        return data

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
    scope, probe, history = _optional_fields(data)
    return EvalQuestion(
        id=data["id"],
        question=data["question"],
        answers=tuple(data["answers"]),
        docs=tuple(data["docs"]),
        category=data["category"],
        answerable=answerable,
        scope=scope,
        probe=probe,
        history=history,
    )


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """An optional field holding one string or a list of them, as a tuple."""
    value = data.get(name, [])
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise EvalSetError(f"field {name!r} must be a non-empty string or a list of them")
    return tuple(items)


def _optional_fields(data: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """Validate ``scope``, ``probe`` and ``history`` (all optional; see corpus/eval/README.md)."""
    scope = data.get("scope")
    if scope is not None and scope not in SCOPES:
        raise EvalSetError(f"field 'scope' must be one of {', '.join(SCOPES)}, got {scope!r}")
    probe, history = _strings(data, "probe"), _strings(data, "history")
    if data["answerable"] and (scope is not None or probe):
        raise EvalSetError("'scope' and 'probe' are for unanswerable questions only")
    if scope == "on_topic" and not probe:
        raise EvalSetError("an on-topic unanswerable question needs a 'probe' (its key answer word)")
    if data["category"] == "follow_up" and not history:
        raise EvalSetError("a 'follow_up' question needs a 'history' (the earlier questions)")
    if len(history) > MAX_HISTORY:
        raise EvalSetError(f"field 'history' holds {len(history)} turns (the limit is {MAX_HISTORY})")
    for name, value in (("question", data["question"]), *(("history", h) for h in history)):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise EvalSetError(f"field {name!r} holds a lone surrogate escape (not text)")
    return scope, probe, history


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read and validate a JSONL evaluation set; blank lines are skipped.

    Raises ``EvalSetError`` naming the file and line number of the problem.
    """
    path = Path(path)
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        lineno = 0
        while line := fh.readline(MAX_LINE_CHARS + 1):  # never more than the limit in memory
            lineno += 1
            where = f"{path}:{lineno}"
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                raise EvalSetError(f"{where}: line is longer than {MAX_LINE_CHARS:,} characters")
            if not line.strip():
                continue
            try:
                question = parse_question(loads_bounded(line))
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
      answer string, i.e. ``docs`` is incomplete or the string is too generic;
    * a ``probe`` of an unanswerable question occurs in a document (case-insensitive),
      i.e. the documents may answer it after all.
    """
    norm = {doc_id: normalize_whitespace(text) for doc_id, text in corpus_texts.items()}
    folded = {doc_id: text.casefold() for doc_id, text in norm.items()}
    problems: list[str] = []
    for q in questions:
        if not q.answerable:
            for probe in q.probe:
                needle = normalize_whitespace(probe).casefold()
                hits = [doc_id for doc_id, text in folded.items() if needle in text]
                if hits:
                    problems.append(f"{q.id}: probe {probe!r} occurs in corpus doc(s) {hits}")
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
    return Path(__file__).resolve().parents[2] / "corpus" / "eval" / "questions.jsonl"
