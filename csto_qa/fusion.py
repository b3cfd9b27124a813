"""Fusion of two ranked lists: reciprocal rank fusion and a convex combination of scores.

Small pure functions over ``{id: score}`` maps, with the papers' defaults:
RRF with k = 60 (Cormack, Clarke and Büttcher, SIGIR 2009) and min-max normalised
convex combination (Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid
Retrieval", TOIS 2023). Ids missing from one list contribute nothing from that list.
"""

from __future__ import annotations

from collections.abc import Mapping

from csto_qa.config import FUSIONS

RRF_K = 60


def ranks(scores: Mapping[int, float]) -> dict[int, int]:
    """1-based ranks by descending score; ties broken by id so results are deterministic."""
    ordered = sorted(scores, key=lambda i: (-scores[i], i))
    return {doc: rank for rank, doc in enumerate(ordered, start=1)}


def rrf(rankings: list[Mapping[int, int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: ``sum(1 / (k + rank))`` over the lists that rank an id."""
    if k < 0:
        raise ValueError(f"RRF k must be >= 0, got {k}")
    fused: dict[int, float] = {}
    for ranking in rankings:
        for doc, rank in ranking.items():
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1]; a list whose scores are all equal maps to 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {doc: 1.0 for doc in scores}
    return {doc: (s - low) / (high - low) for doc, s in scores.items()}


def convex(lexical: Mapping[int, float], dense: Mapping[int, float], alpha: float = 0.5) -> dict[int, float]:
    """``alpha * dense + (1 - alpha) * lexical`` on min-max normalised scores."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"convex fusion alpha must be in [0, 1], got {alpha}")
    lex, den = min_max(lexical), min_max(dense)
    return {
        doc: alpha * den.get(doc, 0.0) + (1 - alpha) * lex.get(doc, 0.0) for doc in lex.keys() | den.keys()
    }


def fuse(
    lexical: Mapping[int, float],
    dense: Mapping[int, float],
    method: str = "convex",
    alpha: float = 0.5,
    rrf_k: int = RRF_K,
) -> dict[int, float]:
    """Fused score of every id either list holds."""
    if method == "rrf":
        return rrf([ranks(lexical), ranks(dense)], rrf_k)
    if method == "convex":
        return convex(lexical, dense, alpha)
    raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(FUSIONS)}")
