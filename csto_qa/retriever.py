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
from csto_qa.fusion import fuse, ranks
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

    def _dense_scores(self, ids: list[int], vector: np.ndarray, known: dict[int, float]) -> dict[int, float]:
        """Dense score of each candidate: passage cosine blended with its best sentence."""
        missing = [i for i in ids if i not in known]
        cosine = dict(known)
        if missing:  # exact cosine for passages the dense search did not return
            extra = self.dense.vectors(np.asarray(missing)) @ vector
            cosine.update(zip(missing, extra.tolist(), strict=True))
        weight = self.settings.sentence_weight
        if weight <= 0 or self.sentence_vectors is None or self.chunk_sentences is None or not ids:
            return {i: cosine[i] for i in ids}
        ranges = self.chunk_sentences[np.asarray(ids)]
        lengths = np.maximum(ranges[:, 1] - ranges[:, 0], 0)
        rows = np.concatenate([np.arange(a, b) for a, b in ranges]) if lengths.sum() else np.zeros(0, int)
        sims = self.sentence_vectors[rows].astype(np.float32) @ vector if rows.size else np.zeros(0)
        best: dict[int, float] = {}
        offset = 0
        for chunk_id, n in zip(ids, lengths.tolist(), strict=True):
            best[chunk_id] = float(sims[offset : offset + n].max()) if n else cosine[chunk_id]
            offset += n
        return {i: (1 - weight) * cosine[i] + weight * best[i] for i in ids}

    def retrieve(self, tokens: list[str], vector: np.ndarray, mode: str, k: int) -> list[Hit]:
        """The best ``k`` hits for ``mode`` (hybrid, bm25 or dense), best first.

        Both retrievers always run, so every hit carries both scores; a rank is ``None``
        when that retriever did not place the passage among its candidates.
        """
        depth = max(self.settings.depth, k)
        lexical = self.bm25.search(tokens, depth)
        dense = self.dense.search(vector, depth)
        bm25_scores = dict(zip(lexical.ids.tolist(), lexical.scores.tolist(), strict=True))
        first_stage = dict(zip(dense.ids.tolist(), dense.scores.tolist(), strict=True))
        if mode == "dense":
            candidates = list(first_stage)
        elif mode == "bm25":
            candidates = list(bm25_scores)
        else:
            candidates = list(dict.fromkeys([*bm25_scores, *first_stage]))
        dense_scores = self._dense_scores(candidates, vector, first_stage)
        bm25_ranks, dense_ranks = ranks(bm25_scores), ranks(dense_scores)
        if mode == "bm25":
            ranking = bm25_scores
        elif mode == "dense":
            ranking = dense_scores
        else:
            s = self.settings
            ranking = fuse(bm25_scores, dense_scores, s.fusion, s.alpha, s.rrf_k)
        order = sorted(ranking, key=lambda i: (-ranking[i], i))[:k]
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
