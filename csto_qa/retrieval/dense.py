"""Dense index: L2-normalised embeddings in a faiss inner-product index.

Exact search (``IndexFlatIP``) while it is fast enough; above ``HNSW_THRESHOLD`` vectors an
HNSW graph keeps query latency flat at a small recall cost (measured by ``python -m benchmarks.scale``).
The faiss file is plain binary data written by faiss itself, never a pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from csto_qa.errors import IndexCorruptError, missing_dependency

FAISS_FILE = "dense.faiss"
HNSW_THRESHOLD = 1_000_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 64


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise missing_dependency("faiss-cpu") from exc
    return faiss


def _reserve(flat: Any, nbytes: int) -> None:
    """Allocate a flat index's storage once: grown add by add, it doubles and copies itself,
    which was the peak memory of a million-passage build (2.5 GB instead of 1.7 GB)."""
    codes = getattr(flat, "codes", None)
    if codes is not None and hasattr(codes, "resize") and nbytes > 0:
        codes.resize(nbytes)  # shrinking a std::vector keeps its capacity
        codes.resize(0)


@dataclass
class DenseHits:
    """Top vectors for one query, best first, with their cosine similarities."""

    ids: np.ndarray
    scores: np.ndarray


class DenseIndex:
    """A faiss index over unit vectors; search returns cosine similarities."""

    def __init__(self, index: Any) -> None:
        self.index = index

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        return "hnsw" if "HNSW" in type(self.index).__name__ else "flat"

    @classmethod
    def create(cls, dim: int, size: int, kind: str = "auto") -> DenseIndex:
        """An empty index of the kind suited to ``size`` vectors; fill it with ``add``."""
        faiss = _faiss()
        if kind == "auto":
            kind = "hnsw" if size > HNSW_THRESHOLD else "flat"
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
            _reserve(index, size * dim * 4)
            return cls(index)
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            _reserve(faiss.downcast_index(index.storage), size * dim * 4)
            return cls(index)
        raise ValueError(f"unknown dense index kind {kind!r}; use auto, flat or hnsw")

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> DenseIndex:
        """Index ``vectors`` (rows already L2-normalised); ``kind``: auto, flat or hnsw."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
        index = cls.create(vectors.shape[1], len(vectors), kind)
        index.add(vectors)
        return index

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (a large corpus can be added in blocks to bound peak memory)."""
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> DenseHits:
        k = min(k, self.size)
        if k <= 0:
            return DenseHits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        faiss = _faiss()
        # One query runs on one thread: faiss's OpenMP team is 10-20x slower for a single
        # query whenever the other core is busy (the threads spin-wait for each other).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.index.search(np.ascontiguousarray(query[None, :], dtype=np.float32), k)
        finally:
            faiss.omp_set_num_threads(threads)
        found = ids[0].astype(np.int64, copy=False)
        if found.size and found.min() < 0:  # faiss pads a short result with -1
            keep = found >= 0
            return DenseHits(found[keep], scores[0][keep])
        return DenseHits(found, scores[0])

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of ``ids`` (for scoring candidates the search did not return)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(ids)

    def save(self, folder: Path) -> None:
        _faiss().write_index(self.index, str(folder / FAISS_FILE))

    @classmethod
    def load(cls, folder: Path) -> DenseIndex:
        """Read what ``save`` wrote: a flat or HNSW inner-product index of finite vectors.

        faiss reads any index type from a file; anything but the two kinds ``create``
        makes (an ``IndexIDMap`` maps ids, an L2 index ranks by distance) would answer
        with wrong passages, so it is refused here.
        """
        faiss = _faiss()
        fix = "rebuild the index: csto-qa index --rebuild"
        path = folder / FAISS_FILE
        if not path.is_file():
            raise IndexCorruptError(f"'{path}' is missing; {fix}")
        try:
            index = faiss.read_index(str(path))  # already of its concrete class
        except (RuntimeError, MemoryError) as exc:
            raise IndexCorruptError(
                f"'{path}' is damaged ({str(exc).splitlines()[0][:120]}); {fix}"
            ) from None
        if type(index).__name__ not in ("IndexFlatIP", "IndexHNSWFlat") or (
            index.metric_type != faiss.METRIC_INNER_PRODUCT
        ):
            raise IndexCorruptError(
                f"'{path}' holds a faiss {type(index).__name__} (metric {index.metric_type}); csto-qa "
                f"writes an inner-product IndexFlatIP or IndexHNSWFlat; {fix}"
            )
        flat = faiss.downcast_index(index.storage) if type(index).__name__ == "IndexHNSWFlat" else index
        if flat.ntotal != index.ntotal or flat.d != index.d:
            raise IndexCorruptError(f"'{path}' has an inconsistent vector store; {fix}")
        if index.ntotal:
            stored = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d)
            if not np.isfinite(stored).all():
                raise IndexCorruptError(f"'{path}' holds NaN or infinite embeddings; {fix}")
        return cls(index)
