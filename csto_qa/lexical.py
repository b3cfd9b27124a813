"""Lexical index: BM25Okapi scores computed through a sparse term-document matrix.

The scoring is exactly ``rank_bm25.BM25Okapi`` (same k1, b, epsilon and IDF floor; a test
checks the scores are equal on the real corpus), but each term's contribution is
precomputed once per (document, term), so a query costs one sparse column slice and a
product instead of a Python loop over every document. Stored as ``.npy`` arrays
(``allow_pickle=False``) plus a JSON file of parameters and vocabulary.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from csto_qa.errors import IndexCorruptError

if TYPE_CHECKING:
    from scipy.sparse import csc_matrix

LEXICAL_VERSION = 1
PARAMS_FILE = "bm25_params.json"
ARRAY_FILES = ("bm25_data.npy", "bm25_indices.npy", "bm25_indptr.npy")


@dataclass
class LexicalHits:
    """Top documents for one query, best first, with their BM25 scores."""

    ids: np.ndarray
    scores: np.ndarray


class BM25Index:
    """BM25Okapi over token lists; ``scores`` equals ``BM25Okapi.get_scores``."""

    def __init__(
        self,
        matrix: csc_matrix,
        vocab: dict[str, int],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ) -> None:
        self.matrix = matrix
        self.vocab = vocab
        self.k1, self.b, self.epsilon = k1, b, epsilon

    @property
    def n_docs(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def build(
        cls, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ) -> BM25Index:
        """Index token lists; parameters default to rank_bm25's (Trotman et al. 2014)."""
        from scipy.sparse import csc_matrix

        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        doc_len = np.zeros(len(corpus), dtype=np.float64)
        for row, tokens in enumerate(corpus):
            doc_len[row] = len(tokens)
            for term, tf in Counter(tokens).items():
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n_docs = len(corpus)
        if n_docs == 0 or not vocab:
            empty = csc_matrix((n_docs, 0), dtype=np.float32)
            return cls(empty, {}, k1, b, epsilon)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        tf_a = np.asarray(tfs, dtype=np.float64)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float64)
        idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
        # rank_bm25 floors negative IDFs (terms in over half the documents) at
        # epsilon times the mean IDF, the mean taken before the floor is applied.
        idf[idf < 0] = epsilon * idf.mean()
        avgdl = doc_len.sum() / n_docs
        norm = k1 * (1 - b + b * doc_len[rows_a] / avgdl) if avgdl > 0 else k1 * (1 - b)
        weights = idf[cols_a] * tf_a * (k1 + 1) / (tf_a + norm)
        matrix = csc_matrix((weights.astype(np.float32), (rows_a, cols_a)), shape=(n_docs, len(vocab)))
        matrix.sum_duplicates()
        return cls(matrix, vocab, k1, b, epsilon)

    def term_ids(self, tokens: list[str]) -> Counter[int]:
        """Known terms of a query with their counts (a repeated query term counts again)."""
        return Counter(self.vocab[t] for t in tokens if t in self.vocab)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens."""
        counts = self.term_ids(tokens)
        if not counts:
            return np.zeros(self.n_docs, dtype=np.float32)
        ids = np.fromiter(counts.keys(), dtype=np.int64)
        weights = np.fromiter(counts.values(), dtype=np.float32)
        return np.asarray(self.matrix[:, ids] @ weights, dtype=np.float32).ravel()

    def search(self, tokens: list[str], k: int) -> LexicalHits:
        """The ``k`` best documents with a positive score, best first."""
        scores = self.scores(tokens)
        positive = np.flatnonzero(scores > 0)
        if positive.size > k:
            top = np.argpartition(-scores[positive], k - 1)[:k]
            positive = positive[top]
        order = positive[np.lexsort((positive, -scores[positive]))]
        return LexicalHits(order, scores[order])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        m = self.matrix
        for name, array in zip(ARRAY_FILES, (m.data, m.indices, m.indptr), strict=True):
            np.save(folder / name, array, allow_pickle=False)
        params = {
            "version": LEXICAL_VERSION,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "n_docs": self.n_docs,
            "vocab": self.vocab,
        }
        (folder / PARAMS_FILE).write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        from scipy.sparse import csc_matrix

        path = folder / PARAMS_FILE
        try:
            params = json.loads(path.read_text(encoding="utf-8"))
            data, indices, indptr = (np.load(folder / name, allow_pickle=False) for name in ARRAY_FILES)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"BM25 index in '{folder}' cannot be read ({exc}); rebuild it: csto-qa index --rebuild"
            ) from exc
        if params.get("version") != LEXICAL_VERSION:
            raise IndexCorruptError(
                f"'{path}' has BM25 format version {params.get('version')!r}, this csto-qa reads "
                f"{LEXICAL_VERSION}; rebuild it: csto-qa index --rebuild"
            )
        n_docs, vocab = int(params["n_docs"]), params["vocab"]
        if (
            indptr.shape != (len(vocab) + 1,)
            or indices.shape != data.shape
            or (data.size and (int(indices.max()) >= n_docs or int(indptr[-1]) != data.size))
        ):
            raise IndexCorruptError(
                f"BM25 arrays in '{folder}' do not match their parameters; "
                "rebuild it: csto-qa index --rebuild"
            )
        matrix = csc_matrix((data, indices, indptr), shape=(n_docs, len(vocab)))
        return cls(matrix, vocab, params["k1"], params["b"], params["epsilon"])
