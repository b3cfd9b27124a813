"""The dense index: exact and HNSW search, batch reconstruction, faiss thread setting kept."""

from __future__ import annotations

import numpy as np


def test_dense_search_keeps_thread_setting_and_reconstructs_in_batch() -> None:
    import faiss

    from csto_qa.retrieval.dense import DenseIndex

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    threads = faiss.omp_get_max_threads()
    for kind in ("flat", "hnsw"):
        index = DenseIndex.build(vectors, kind)
        assert index.kind == kind and index.search(vectors[7], 1).ids.tolist() == [7]
        assert faiss.omp_get_max_threads() == threads
        np.testing.assert_array_equal(index.vectors(np.array([3, 499, 3])), vectors[[3, 499, 3]])
        assert index.vectors(np.array([], dtype=np.int64)).shape == (0, 16)


def test_a_search_for_every_vector_returns_each_once_as_int64() -> None:
    from csto_qa.retrieval.dense import DenseIndex

    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for kind in ("flat", "hnsw"):
        hits = DenseIndex.build(vectors, kind).search(vectors[3], 100)  # deeper than the index
        assert hits.ids.dtype == np.int64 and hits.ids.size == hits.scores.size
        assert (hits.ids >= 0).all() and len(set(hits.ids.tolist())) == hits.ids.size
        if kind == "flat":
            assert sorted(hits.ids.tolist()) == list(range(40)) and hits.ids[0] == 3
