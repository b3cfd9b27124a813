"""Retrieval metrics: small pure functions over relevance flags of a ranked list.

A ranked list is judged as a list of booleans, ``flags[i]`` telling whether the passage
at rank ``i + 1`` is relevant (it contains an answer string, see :func:`is_relevant`).
Definitions follow ranx / trec_eval with binary gains:

* answer-recall@k (a.k.a. hit rate, success@k): 1 if any of the top ``k`` is relevant;
* reciprocal rank@k: ``1 / rank`` of the first relevant passage within the top ``k``, else 0;
* nDCG@k: ``DCG@k / IDCG@k`` with ``DCG = sum(rel_i / log2(i + 1))``.

Per-question values are averaged with :func:`mean` over the answerable questions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from csto_qa.evalset import normalize_whitespace

__all__ = [
    "abstention_rates",
    "dcg_at_k",
    "first_relevant_rank",
    "is_relevant",
    "mean",
    "ndcg_at_k",
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
