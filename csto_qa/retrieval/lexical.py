"""Lexical index: BM25Okapi scores computed through a sparse term-document matrix.

The scoring is exactly ``rank_bm25.BM25Okapi`` (same k1, b, epsilon and IDF floor; a test
checks the scores are equal on the real corpus), but each term's contribution is
precomputed once per (document, term), so a query only adds up the posting lists of its
terms instead of looping over every document in Python. Stored as ``.npy`` arrays
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
SCIPY_MIN_DOCS = 50_000


@dataclass
class LexicalHits:
    """Top documents for one query, best first, with their BM25 scores."""

    ids: np.ndarray
    scores: np.ndarray


class BM25Index:
    """BM25Okapi over token lists; ``scores`` equals ``BM25Okapi.get_scores``.

    The weights are kept as the three arrays of a compressed-column matrix (``data``,
    ``indices``, ``indptr``: column ``t`` lists the documents holding term ``t``).
    scipy, whose import costs about half a second, is only loaded to build an index
    and to score corpora of ``SCIPY_MIN_DOCS`` passages or more, where its sparse
    product is ~3x faster than numpy's ``bincount``.
    """

    def __init__(
        self,
        matrix: csc_matrix | tuple[np.ndarray, np.ndarray, np.ndarray],
        vocab: dict[str, int],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        n_docs: int | None = None,
    ) -> None:
        """``matrix``: a scipy ``csc_matrix``, or its ``(data, indices, indptr)`` with ``n_docs``."""
        if isinstance(matrix, tuple):
            self.data, self.indices, self.indptr = matrix
            self._n_docs, self._matrix = int(n_docs or 0), None
        else:
            self.data, self.indices, self.indptr = matrix.data, matrix.indices, matrix.indptr
            self._n_docs, self._matrix = int(matrix.shape[0]), matrix
        self.vocab = vocab
        self.k1, self.b, self.epsilon = k1, b, epsilon

    @property
    def n_docs(self) -> int:
        return self._n_docs

    @property
    def matrix(self) -> csc_matrix:
        """The weights as a scipy ``csc_matrix`` (documents × terms), made on first use."""
        if self._matrix is None:
            from scipy.sparse import csc_matrix

            shape = (self._n_docs, len(self.indptr) - 1)
            self._matrix = csc_matrix((self.data, self.indices, self.indptr), shape=shape)
        return self._matrix

    def document_frequencies(self) -> np.ndarray:
        """How many documents hold each term (by term id)."""
        return np.diff(self.indptr)

    @classmethod
    def build(
        cls, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ) -> BM25Index:
        """Index token lists; parameters default to rank_bm25's (Trotman et al. 2014)."""
        vocab: dict[str, int] = {}
        add = vocab.setdefault
        lengths = np.fromiter(map(len, corpus), dtype=np.int64, count=len(corpus))
        term_ids = np.fromiter(
            (add(t, len(vocab)) for tokens in corpus for t in tokens),
            dtype=np.int32,
            count=int(lengths.sum()),
        )
        return cls.from_term_ids(term_ids, lengths, vocab, k1, b, epsilon)

    @classmethod
    def from_term_ids(
        cls,
        term_ids: np.ndarray,
        lengths: np.ndarray,
        vocab: dict[str, int],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ) -> BM25Index:
        """Index documents given as one flat array of term ids and each document's length.

        Vectorised (no per-document Python work), so a million passages index in seconds;
        ``build`` maps tokens to ids and lands here.
        """
        from scipy.sparse import csc_matrix

        n_docs, n_terms = len(lengths), len(vocab)
        if n_docs == 0 or n_terms == 0 or len(term_ids) == 0:
            return cls(csc_matrix((n_docs, n_terms), dtype=np.float32), vocab, k1, b, epsilon)
        rows = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
        ones = np.ones(len(term_ids), dtype=np.float32)
        # COO -> CSC sums the duplicates: each stored value is a term frequency.
        tf = csc_matrix((ones, (rows, term_ids)), shape=(n_docs, n_terms))
        del rows, ones
        tf.sum_duplicates()
        df = np.diff(tf.indptr)
        idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
        # rank_bm25 floors negative IDFs (terms in over half the documents) at
        # epsilon times the mean IDF, the mean taken before the floor is applied.
        idf[idf < 0] = epsilon * idf.mean()
        doc_len = lengths.astype(np.float64)
        avgdl = doc_len.sum() / n_docs
        norm = k1 * (1 - b + b * doc_len / avgdl) if avgdl > 0 else np.full(n_docs, k1 * (1 - b))
        # Per-value arithmetic in float32 (the stored precision) keeps a million-passage
        # build under a gigabyte of temporaries; each step is exact to ~1e-7.
        freq = tf.data
        weights = freq * np.float32(k1 + 1)
        weights /= freq + norm.astype(np.float32)[tf.indices]
        weights *= np.repeat(idf.astype(np.float32), df)
        matrix = csc_matrix((weights, tf.indices, tf.indptr), shape=(n_docs, n_terms))
        return cls(matrix, vocab, k1, b, epsilon)

    def term_ids(self, tokens: list[str]) -> Counter[int]:
        """Known terms of a query with their counts (a repeated query term counts again)."""
        return Counter(self.vocab[t] for t in tokens if t in self.vocab)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens."""
        counts = self.term_ids(tokens)
        if not counts:
            return np.zeros(self.n_docs, dtype=np.float32)
        if self.n_docs >= SCIPY_MIN_DOCS:  # one C pass over the postings
            ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            return np.asarray(self.matrix[:, ids] @ weights, dtype=np.float32).ravel()
        spans = [(self.indptr[t], self.indptr[t + 1], c) for t, c in counts.items()]
        rows = np.concatenate([self.indices[a:b] for a, b, _ in spans])
        # A term asked once keeps its weights as stored (x * 1 is x: no product to make).
        values = np.concatenate(
            [self.data[a:b] if c == 1 else self.data[a:b] * np.float32(c) for a, b, c in spans]
        )
        return np.bincount(rows, weights=values, minlength=self.n_docs).astype(np.float32)

    def search(self, tokens: list[str], k: int) -> LexicalHits:
        """The ``k`` best documents with a positive score, best first (ties: lower id first)."""
        scores = self.scores(tokens)
        ids = top_candidates(scores, k)
        ids = ids[np.lexsort((ids, -scores[ids]))][:k]
        return LexicalHits(ids, scores[ids])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in zip(ARRAY_FILES, (self.data, self.indices, self.indptr), strict=True):
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
        """Read what ``save`` wrote; anything else is an ``IndexCorruptError`` naming the file."""
        from csto_qa.plainfiles import load_npy, read_json

        fix = "rebuild it: csto-qa index --rebuild"
        path = folder / PARAMS_FILE
        params = read_json(path, fix)
        if not isinstance(params, dict) or params.get("version") != LEXICAL_VERSION:
            found = params.get("version") if isinstance(params, dict) else None
            raise IndexCorruptError(
                f"'{path}' has BM25 format version {found!r}, this csto-qa reads {LEXICAL_VERSION}; {fix}"
            )
        vocab, n_docs = params.get("vocab"), params.get("n_docs")
        numbers = [params.get(key) for key in ("k1", "b", "epsilon")]
        if (
            not isinstance(vocab, dict)
            or not all(isinstance(t, str) and type(i) is int for t, i in vocab.items())
            or sorted(vocab.values()) != list(range(len(vocab)))
        ):
            raise IndexCorruptError(f"'{path}' has a damaged vocabulary (not terms mapped to 0..n-1); {fix}")
        if (
            type(n_docs) is not int
            or n_docs < 0
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in numbers
            )
        ):
            raise IndexCorruptError(f"'{path}' has damaged parameters (n_docs, k1, b, epsilon); {fix}")
        data = load_npy(folder / ARRAY_FILES[0], fix, kind="f", ndim=1)
        indices = load_npy(folder / ARRAY_FILES[1], fix, kind="iu", ndim=1)
        indptr = load_npy(folder / ARRAY_FILES[2], fix, kind="iu", ndim=1)
        data_file, indices_file, indptr_file = (f"'{folder / name}'" for name in ARRAY_FILES)
        problem = ""
        if indptr.shape != (len(vocab) + 1,):
            problem = f"{indptr_file} has {indptr.size} column pointers for {len(vocab)} terms"
        elif indices.shape != data.shape:
            problem = f"{indices_file} has {indices.size} row ids for the {data.size} weights of {data_file}"
        elif int(indptr[0]) != 0 or int(indptr[-1]) != data.size or (np.diff(indptr) < 0).any():
            problem = f"{indptr_file} does not run from 0 up to the {data.size} weights"
        elif data.size and (int(indices.min()) < 0 or int(indices.max()) >= n_docs):
            problem = f"{indices_file} has row ids outside 0..{n_docs - 1}"
        if problem:
            raise IndexCorruptError(f"the BM25 index is damaged: {problem}; {fix}")
        arrays = (data, indices, indptr)
        k1, b, epsilon = (float(v) for v in numbers if isinstance(v, int | float))  # checked above
        return cls(arrays, vocab, k1, b, epsilon, n_docs=n_docs)


def top_candidates(scores: np.ndarray, k: int) -> np.ndarray:
    """Ids of the ``k`` best positive scores, plus any tied with the k-th (a small superset).

    On a large corpus nearly every document has a positive score, and selecting among
    all of them cost ~25 ms at a million passages; a threshold read off a strided sample
    narrows that to ~4k ids first. It is checked (at least ``k`` scores reach it, so the
    true top ``k`` all do); when the check fails the full selection runs.
    """
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    n = scores.size
    if n > 100 * k:
        sample = scores[:: n // (100 * k)]
        rank = min(sample.size, 4 * k * sample.size // n + 1)
        guess = np.partition(sample, sample.size - rank)[sample.size - rank]
        if guess > 0:
            ids = np.flatnonzero(scores >= guess)
            if ids.size >= k:
                return _with_ties(ids, scores, k)
    return _with_ties(np.flatnonzero(scores > 0), scores, k)


def _with_ties(ids: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    if ids.size <= k:
        return ids
    values = scores[ids]
    kth = np.partition(values, ids.size - k)[ids.size - k]
    return ids[values >= kth]
