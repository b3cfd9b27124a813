"""Retriever: BM25, dense or hybrid ranking of passages, each hit with its full evidence.

The dense side scores a passage by its own embedding and, with weight
``settings.sentence_weight``, by its best-matching sentence: a passage of five sentences
whose third states the answer outright should not lose to a vaguer passage that is
about the topic as a whole. Only the candidates of the first stage are rescored, so the
cost stays proportional to ``depth``, not to the corpus.

Both sides' candidates are put on one sorted pool of ids once (``np.unique``), and every
score, mask and rank after that is an array over the pool; the candidates' sentences are
scored in one product, in candidate order, and ``maximum.reduceat`` takes each passage's
best. The dict-per-side form of the same arithmetic took 0.57-0.80 ms a query, this one
0.20 ms (warm loop over the 198 evaluation questions); the hits are bit-identical
(tests/retrieval/test_retriever.py checks them against the rule done by hand).
"""

from __future__ import annotations

import numpy as np

from csto_qa.config import EngineSettings
from csto_qa.records import Hit
from csto_qa.retrieval.dense import DenseIndex
from csto_qa.retrieval.fusion import Scores, fuse_scores
from csto_qa.retrieval.lexical import BM25Index


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
        # Each passage's first sentence and sentence count, and whether every passage has
        # one (then no mask is needed before ``maximum.reduceat``), read once here.
        if chunk_sentences is not None:
            self._starts = chunk_sentences[:, 0].copy()
            self._lengths = np.maximum(chunk_sentences[:, 1] - chunk_sentences[:, 0], 0)
            self._all_have = bool(self._lengths.all())

    def _dense_scores(self, ids: np.ndarray, vector: np.ndarray, cosine: np.ndarray) -> np.ndarray:
        """Dense score of each candidate: its passage cosine blended with its best sentence."""
        weight = self.settings.sentence_weight
        if weight <= 0 or self.sentence_vectors is None or self.chunk_sentences is None or not ids.size:
            return cosine
        lengths = self._lengths[ids]
        ends = np.cumsum(lengths)
        total = int(ends[-1])
        if not total:
            return (1 - weight) * cosine + weight * cosine
        # The rows of every candidate's sentences, in candidate order, in one product.
        offsets = ends - lengths
        rows = np.arange(total) + np.repeat(self._starts[ids] - offsets, lengths)
        # take, not [rows]: the same rows in the same order, 203-205 against 229 us with the product
        # right after the encoder (198 questions, 3 passes); dot is the cblas_sgemv call @ makes.
        sims = self.sentence_vectors.take(rows, axis=0).astype(np.float32, copy=False).dot(vector)
        if self._all_have:  # float64, as when written into a copy of ``cosine``
            best = np.maximum.reduceat(sims, offsets).astype(np.float64)
        else:
            best = cosine.copy()  # a passage without sentences keeps its own cosine
            has = lengths > 0
            best[has] = np.maximum.reduceat(sims, offsets[has])
        return (1 - weight) * cosine + weight * best

    def retrieve(self, tokens: list[str], vector: np.ndarray, mode: str, k: int) -> list[Hit]:
        """The best ``k`` hits for ``mode`` (hybrid, bm25 or dense), best first.

        Both retrievers always run, so every hit carries both scores; a rank is ``None``
        when that retriever did not place the passage among its candidates.
        """
        depth = max(self.settings.depth, k)
        lexical = self.bm25.search(tokens, depth)
        first = self.dense.search(vector, depth)
        # One pool of the ids either side returned (sorted), and where each side's lie in it.
        both = np.concatenate([lexical.ids, first.ids])
        if first.ids.size == self.dense.size and self.bm25.n_docs <= first.ids.size:
            # The dense side returned every passage (depth >= corpus size, as on this corpus's
            # 105): the pool is all ids in order, each id its own place (what _pool gives,
            # without its sort: _pool took 20 us a query warm and 54-59 after the encoder, arange 0.7).
            ids, where = np.arange(first.ids.size, dtype=np.int64), both
        else:
            ids, where = _pool(both)
        at_lexical, at_first = where[: lexical.ids.size], where[lexical.ids.size :]
        bm25 = Scores(ids, np.zeros(ids.size), np.zeros(ids.size, dtype=bool))
        bm25.scores[at_lexical], bm25.has[at_lexical] = lexical.scores, True
        cosine = np.zeros(ids.size)
        cosine[at_first] = first.scores
        if mode == "dense":
            candidates = at_first
        elif mode == "bm25":
            candidates = at_lexical
        else:  # the lexical candidates, then the dense ones the lexical side lacks
            candidates = np.concatenate([at_lexical, at_first[~bm25.has[at_first]]])
        if ids.size > first.ids.size:  # else the dense side returned every id of the pool
            found = np.zeros(ids.size, dtype=bool)
            found[at_first] = True
            missing = candidates[~found[candidates]]
            if missing.size:  # exact cosine for passages the dense search did not return
                cosine[missing] = self.dense.vectors(ids[missing]) @ vector
        dense = Scores(ids, np.zeros(ids.size), np.zeros(ids.size, dtype=bool))
        dense.scores[candidates] = self._dense_scores(ids[candidates], vector, cosine[candidates])
        dense.has[candidates] = True
        if mode == "bm25":
            ranking = bm25
        elif mode == "dense":
            ranking = dense
        else:
            s = self.settings
            ranking = fuse_scores(bm25, dense, s.fusion, s.alpha, s.rrf_k)
        top = ranking.order()[:k]
        # The lexical list is already in rank order (BM25Index.search sorts by score, ties to
        # the lower id, as Scores.order does): its ranks need no second sort.
        bm25_ranks = np.zeros(ids.size, dtype=np.int64)
        bm25_ranks[at_lexical] = np.arange(1, lexical.ids.size + 1)
        dense_ranks = dense.ranks()
        # Python numbers of the top rows in one pass per array (not two conversions per field).
        columns = zip(
            ids[top].tolist(),
            ranking.scores[top].tolist(),
            bm25.scores[top].tolist(),
            bm25_ranks[top].tolist(),
            dense.scores[top].tolist(),
            dense_ranks[top].tolist(),
            strict=True,
        )
        return [
            Hit(chunk_id, score, bm25_score, bm25_rank or None, dense_score, dense_rank or None)
            for chunk_id, score, bm25_score, bm25_rank, dense_score, dense_rank in columns
        ]


def _pool(both: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(both, return_inverse=True)``: the distinct ids ascending, and where each
    of ``both`` lies among them. The same sort and scan without unique's generality (axis,
    NaN and dtype handling) took 10 us a query instead of 20 (198 questions, warm)."""
    order = both.argsort(kind="stable")
    ascending = both[order]
    new = np.empty(ascending.size, dtype=bool)
    new[:1] = True
    np.not_equal(ascending[1:], ascending[:-1], out=new[1:])
    where = np.empty(both.size, dtype=np.int64)
    where[order] = np.cumsum(new) - 1
    return ascending[new], where
