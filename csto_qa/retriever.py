"""Retriever: BM25, dense or hybrid ranking of passages, each hit with its full evidence.

The dense side scores a passage by its own embedding and, with weight
``settings.sentence_weight``, by its best-matching sentence: a passage of five sentences
whose third states the answer outright should not lose to a vaguer passage that is
about the topic as a whole. Only the candidates of the first stage are rescored, so the
cost stays proportional to ``depth``, not to the corpus.
"""

from __future__ import annotations

import numpy as np

from csto_qa.config import EngineSettings
from csto_qa.dense import DenseIndex
from csto_qa.fusion import Scores, fuse_scores
from csto_qa.lexical import BM25Index
from csto_qa.records import Hit


class Retriever:
    """Ranks passages for a tokenized query and its embedding."""

    def __init__(
        self,
        bm25: BM25Index,
        dense: DenseIndex,
        settings: EngineSettings,
        sentence_vectors: np.ndarray | None = None,
        chunk_sentences: np.ndarray | None = None,
    ) -> None:
        self.bm25 = bm25
        self.dense = dense
        self.settings = settings
        self.sentence_vectors = sentence_vectors
        self.chunk_sentences = chunk_sentences  # (n_chunks, 2) sentence id ranges

    def _dense_scores(self, ids: np.ndarray, vector: np.ndarray, first_stage: Scores) -> Scores:
        """Dense score of each candidate: passage cosine blended with its best sentence."""
        found, cosine = first_stage.on(ids)
        if not found.all():  # exact cosine for passages the dense search did not return
            cosine[~found] = self.dense.vectors(ids[~found]) @ vector
        weight = self.settings.sentence_weight
        if weight <= 0 or self.sentence_vectors is None or self.chunk_sentences is None or not ids.size:
            return Scores(ids, cosine)
        ranges = self.chunk_sentences[ids]
        lengths = np.maximum(ranges[:, 1] - ranges[:, 0], 0)
        best = cosine.copy()  # a passage without sentences keeps its own cosine
        if lengths.sum():
            # The rows of every candidate's sentences, in candidate order, in one product.
            offsets = np.cumsum(lengths) - lengths
            rows = np.arange(int(lengths.sum())) + np.repeat(ranges[:, 0] - offsets, lengths)
            sims = self.sentence_vectors[rows].astype(np.float32, copy=False) @ vector
            has = lengths > 0
            best[has] = np.maximum.reduceat(sims, offsets[has])
        return Scores(ids, (1 - weight) * cosine + weight * best)

    def retrieve(self, tokens: list[str], vector: np.ndarray, mode: str, k: int) -> list[Hit]:
        """The best ``k`` hits for ``mode`` (hybrid, bm25 or dense), best first.

        Both retrievers always run, so every hit carries both scores; a rank is ``None``
        when that retriever did not place the passage among its candidates.
        """
        depth = max(self.settings.depth, k)
        lexical = self.bm25.search(tokens, depth)
        dense = self.dense.search(vector, depth)
        bm25 = Scores.of(lexical.ids, lexical.scores)
        first_stage = Scores.of(dense.ids, dense.scores)
        if mode == "dense":
            candidates = first_stage.ids
        elif mode == "bm25":
            candidates = bm25.ids
        else:  # the lexical candidates, then the dense ones the lexical side lacks
            candidates = np.concatenate([bm25.ids, first_stage.ids[~np.isin(first_stage.ids, bm25.ids)]])
        dense_scores = self._dense_scores(candidates, vector, first_stage)
        if mode == "bm25":
            ranking = bm25
        elif mode == "dense":
            ranking = dense_scores
        else:
            s = self.settings
            ranking = fuse_scores(bm25, dense_scores, s.fusion, s.alpha, s.rrf_k)
        top = ranking.ids[ranking.order()[:k]]
        in_bm25, bm25_top = bm25.on(top)
        bm25_rank = Scores(bm25.ids, bm25.ranks()).on(top)[1]
        in_dense, dense_top = dense_scores.on(top)
        dense_rank = Scores(dense_scores.ids, dense_scores.ranks()).on(top)[1]
        score_top = ranking.on(top)[1]
        return [
            Hit(
                chunk_id=i,
                score=float(score_top[n]),
                bm25_score=float(bm25_top[n]),
                bm25_rank=int(bm25_rank[n]) if in_bm25[n] else None,
                dense_score=float(dense_top[n]),
                dense_rank=int(dense_rank[n]) if in_dense[n] else None,
            )
            for n, i in enumerate(top.tolist())
        ]
