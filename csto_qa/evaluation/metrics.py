"""Retrieval metrics: small pure functions over relevance flags of a ranked list.

A ranked list is judged as a list of booleans, ``flags[i]`` telling whether the passage
at rank ``i + 1`` is relevant (it contains an answer string, see :func:`is_relevant`).
Definitions follow ranx / trec_eval with binary gains:

* answer-recall@k (a.k.a. hit rate, success@k): 1 if any of the top ``k`` is relevant;
* reciprocal rank@k: ``1 / rank`` of the first relevant passage within the top ``k``, else 0;
* nDCG@k: ``DCG@k / IDCG@k`` with ``DCG = sum(rel_i / log2(i + 1))``.

Per-question values are averaged with :func:`mean` over the answerable questions.

Answer-level judgements work on the reply a user reads rather than on the ranked list:

* lead-sentence correct: the highlighted sentence of the first passage contains an answer
  string (:func:`is_relevant`, the same test as passage relevance);
* answer phrase correct (:func:`phrase_matches`): the short phrase the answer marks
  contains an answer string, or is a run of an answer string's words that adds what the
  question asks ("Nikol Pashinyan" inside "chaired by the Armenian Prime Minister Nikol
  Pashinyan"; not "the session");
* precision / coverage of a decline rule (:func:`precision_coverage`): answering only
  when confidence >= t, the share of answerable questions answered (coverage) and the
  share of answered questions whose lead sentence is right (precision; an answered
  unanswerable question counts as wrong).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from csto_qa.evaluation.questions import normalize_whitespace

__all__ = [
    "Outcome",
    "abstention_rates",
    "dcg_at_k",
    "first_relevant_rank",
    "is_relevant",
    "mean",
    "ndcg_at_k",
    "phrase_matches",
    "precision_coverage",
    "recall_at_k",
    "reciprocal_rank",
    "relevance_flags",
    "word_count",
]


def is_relevant(text: str, answers: Iterable[str]) -> bool:
    """True when ``text`` contains any answer string (exact case, whitespace-normalised)."""
    haystack = normalize_whitespace(text)
    return any(needle and needle in haystack for needle in (normalize_whitespace(a) for a in answers))


def relevance_flags(texts: Iterable[str], answers: Sequence[str]) -> list[bool]:
    """Relevance of each passage text of a ranked list, best first."""
    return [is_relevant(text, answers) for text in texts]


def first_relevant_rank(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage, ``None`` when there is none."""
    for rank, flag in enumerate(flags, start=1):
        if flag:
            return rank
    return None


def recall_at_k(flags: Sequence[bool], k: int) -> float:
    """Answer-recall@k: 1.0 if any of the top ``k`` passages is relevant, else 0.0."""
    return 1.0 if any(flags[:k]) else 0.0


def reciprocal_rank(flags: Sequence[bool], k: int) -> float:
    """``1 / rank`` of the first relevant passage within the top ``k`` (0.0 if none)."""
    rank = first_relevant_rank(flags[:k])
    return 0.0 if rank is None else 1.0 / rank


def dcg_at_k(flags: Sequence[bool], k: int) -> float:
    """Discounted cumulative gain with binary gains: ``sum(1 / log2(rank + 1))`` over hits."""
    return sum(1.0 / math.log2(rank + 1) for rank, flag in enumerate(flags[:k], start=1) if flag)


def ndcg_at_k(flags: Sequence[bool], n_relevant: int, k: int) -> float:
    """nDCG@k with binary gains; the ideal list has ``min(n_relevant, k)`` hits on top.

    ``n_relevant`` is the number of relevant passages that exist for the question (the
    evaluation counts the indexed chunks containing an answer string). It is raised to
    the number of hits actually retrieved, so the value never exceeds 1 even when the
    caller's count is an underestimate. Returns 0.0 when nothing relevant exists.
    """
    n_ideal = min(max(n_relevant, sum(1 for f in flags[:k] if f)), k)
    if n_ideal == 0:
        return 0.0
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, n_ideal + 1))
    return dcg_at_k(flags, k) / ideal


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; 0.0 for no values (an empty category reports zeros, not NaN)."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def word_count(text: str) -> int:
    """Number of whitespace-separated words, the unit of passage length in the reports."""
    return len(text.split())


def abstention_rates(
    answerable: Iterable[float], unanswerable: Iterable[float], threshold: float
) -> dict[str, float]:
    """Shares declined at ``threshold`` (the engine abstains when confidence < threshold).

    ``answerable`` and ``unanswerable`` are the answers' confidences for the two groups.
    Returns ``unanswerable_declined`` (higher is better) and ``answerable_declined``
    (wrongly declined, lower is better); a group with no questions gives 0.0.
    """
    good = list(answerable)
    bad = list(unanswerable)
    return {
        "threshold": threshold,
        "unanswerable_declined": mean(1.0 if c < threshold else 0.0 for c in bad),
        "answerable_declined": mean(1.0 if c < threshold else 0.0 for c in good),
    }


def phrase_matches(phrase: str | None, answers: Iterable[str], question: str = "") -> bool:
    """True when the answer phrase contains an answer string, or is a contiguous run of an
    answer string's words that tells the reader something: it holds a word the question
    does not (stop words aside), and that run covers at least half of the answer string's
    words or holds a number or a capitalised word. Case-sensitive, like relevance.

    So for "Who chaired the session?" with the answer string "chaired by the Armenian Prime
    Minister Nikol Pashinyan", "Nikol Pashinyan" is right, "the session" and "by the" are
    not; for "28 June 2012", "June 2012" and "2012" are right. ``None`` or an empty phrase
    (the answer marked none) is never a match.
    """
    if not phrase or not phrase.strip():
        return False
    answers = [a for a in answers if a.strip()]
    if is_relevant(phrase, answers):
        return True
    from csto_qa.retrieval.tokenizing import STOP_WORDS

    asked = {w.casefold() for w in _bare_words(question)}
    mine = _bare_words(phrase)
    new = [w for w in mine if w.casefold() not in asked and w.casefold() not in STOP_WORDS]
    if not new:
        return False
    named = any(w[0].isdigit() or w[0].isupper() for w in new)
    for answer in answers:
        theirs = _bare_words(answer)
        n = len(mine)
        if n > len(theirs) or not (named or 2 * n >= len(theirs)):
            continue
        if any(theirs[i : i + n] == mine for i in range(len(theirs) - n + 1)):
            return True
    return False


def _bare_words(text: str) -> list[str]:
    """Whitespace words with surrounding punctuation removed ("Moscow," → "Moscow")."""
    return [w for w in (t.strip(".,;:!?()[]\"'«»“”‘’") for t in text.split()) if w]


@dataclass(frozen=True)
class Outcome:
    """One question's reply, judged: its confidence, whether it had an answer, whether the
    lead sentence was right (always ``False`` for an unanswerable question)."""

    confidence: float
    answerable: bool
    correct: bool


def precision_coverage(outcomes: Sequence[Outcome], threshold: float) -> dict[str, float | None]:
    """Answer only when ``confidence >= threshold``: coverage, precision and declined shares.

    * ``coverage``: answered answerable questions / answerable questions;
    * ``precision``: answered questions with a right lead sentence / answered questions
      (``None`` when nothing is answered);
    * ``unanswerable_declined``: declined unanswerable / unanswerable questions.
    """
    answered = [o for o in outcomes if o.confidence >= threshold]
    good = [o for o in outcomes if o.answerable]
    bad = [o for o in outcomes if not o.answerable]
    return {
        "threshold": threshold,
        "coverage": mean(1.0 if o.confidence >= threshold else 0.0 for o in good),
        "precision": (
            sum(1 for o in answered if o.answerable and o.correct) / len(answered) if answered else None
        ),
        "unanswerable_declined": mean(1.0 if o.confidence < threshold else 0.0 for o in bad),
    }
