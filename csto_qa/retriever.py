"""Retriever: BM25, dense or hybrid ranking of passages, each hit with its full evidence."""

from __future__ import annotations

import numpy as np

from csto_qa.config import EngineSettings
from csto_qa.dense import DenseIndex
from csto_qa.fusion import fuse, ranks
from csto_qa.lexical import BM25Index
from csto_qa.records import Hit


class Retriever:
    """Ranks passages for a tokenized query and its embedding."""

    def __init__(self, bm25: BM25Index, dense: DenseIndex, settings: EngineSettings) -> None:
        self.bm25 = bm25
        self.dense = dense
        self.settings = settings

    def retrieve(self, tokens: list[str], vector: np.ndarray, mode: str, k: int) -> list[Hit]:
        """The best ``k`` hits for ``mode`` (hybrid, bm25 or dense), best first.

        Both retrievers always run (the dense side costs well under a millisecond here),
        so every hit carries both scores; a rank is ``None`` when that retriever did not
        place the passage among its ``depth`` best.
        """
        depth = max(self.settings.depth, k)
        lexical = self.bm25.search(tokens, depth)
        dense = self.dense.search(vector, depth)
        bm25_scores = dict(zip(lexical.ids.tolist(), lexical.scores.tolist(), strict=True))
        dense_scores = dict(zip(dense.ids.tolist(), dense.scores.tolist(), strict=True))
        bm25_ranks, dense_ranks = ranks(bm25_scores), ranks(dense_scores)
        if mode == "bm25":
            ranking = bm25_scores
        elif mode == "dense":
            ranking = dense_scores
        else:
            s = self.settings
            ranking = fuse(bm25_scores, dense_scores, s.fusion, s.alpha, s.rrf_k)
        order = sorted(ranking, key=lambda i: (-ranking[i], i))[:k]
        missing = [i for i in order if i not in dense_scores]
        if missing:  # exact cosine for passages the dense search did not return
            extra = self.dense.vectors(np.asarray(missing)) @ vector
            dense_scores.update(zip(missing, extra.tolist(), strict=True))
        return [
            Hit(
                chunk_id=i,
                score=float(ranking[i]),
                bm25_score=float(bm25_scores.get(i, 0.0)),
                bm25_rank=bm25_ranks.get(i),
                dense_score=float(dense_scores[i]),
                dense_rank=dense_ranks.get(i),
            )
            for i in order
        ]
