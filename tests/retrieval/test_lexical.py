"""BM25Index.scores must equal rank_bm25.BM25Okapi.get_scores, on the real corpus and edge cases.

The index stores float32 weights, so scores are compared with a float32 tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from csto_qa.evaluation.questions import default_questions_path, load_questions
from csto_qa.ingest.chunking import ChunkParams, chunk_corpus
from csto_qa.ingest.corpus import load_corpus
from csto_qa.retrieval.lexical import BM25Index
from csto_qa.retrieval.tokenizing import tokenize

RTOL, ATOL = 1e-5, 1e-5


def assert_same_scores(corpus: list[list[str]], queries: list[list[str]]) -> None:
    ours = BM25Index.build(corpus)
    reference = BM25Okapi(corpus)
    for query in queries:
        expected = reference.get_scores(query)
        found = ours.scores(query)
        assert found.shape == expected.shape
        np.testing.assert_allclose(found, expected, rtol=RTOL, atol=ATOL, err_msg=f"query {query!r}")


@pytest.fixture(scope="module")
def real_corpus(corpus_dir: Path) -> list[list[str]]:
    documents = load_corpus(corpus_dir).documents
    chunks = chunk_corpus(documents, ChunkParams()).chunks
    return [tokenize(c.index_text) for c in chunks]


def test_real_corpus_eval_questions(real_corpus: list[list[str]]) -> None:
    queries = [tokenize(q.question) for q in load_questions(default_questions_path())]
    assert len(real_corpus) > 50 and len(queries) > 50
    assert_same_scores(real_corpus, queries)


def test_real_corpus_large_corpus_path(real_corpus: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    # Corpora of SCIPY_MIN_DOCS passages or more are scored with scipy's sparse product.
    import csto_qa.retrieval.lexical

    monkeypatch.setattr(csto_qa.retrieval.lexical, "SCIPY_MIN_DOCS", 0)
    queries = [tokenize(q.question) for q in load_questions(default_questions_path())]
    assert_same_scores(real_corpus, queries + [["csto"], []])


def test_real_corpus_every_vocabulary_term(real_corpus: list[list[str]]) -> None:
    vocabulary = sorted({t for doc in real_corpus for t in doc})
    assert_same_scores(real_corpus, [[t] for t in vocabulary])


def test_real_corpus_saved_and_loaded(real_corpus: list[list[str]], tmp_path: Path) -> None:
    BM25Index.build(real_corpus).save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    reference = BM25Okapi(real_corpus)
    for q in load_questions(default_questions_path())[:20]:
        tokens = tokenize(q.question)
        np.testing.assert_allclose(loaded.scores(tokens), reference.get_scores(tokens), rtol=RTOL, atol=ATOL)


TINY = [
    ["csto", "treati", "moscow", "csto"],
    ["csto", "armenia", "armenia", "armenia", "yerevan"],
    ["csto", "kazakhstan", "unrest", "2022", "troop", "troop"],
    ["csto", "belarus"],
    ["csto"],
]


@pytest.mark.parametrize(
    "query",
    [
        ["csto"],  # in every document: negative IDF, floored at epsilon * mean IDF
        ["armenia"],
        ["armenia", "armenia"],  # a repeated query term counts twice
        ["troop", "csto", "troop", "2022"],
        ["nato"],  # unknown term
        ["nato", "belarus"],  # unknown and known
        [],  # empty query
    ],
)
def test_tiny_corpus(query: list[str]) -> None:
    assert_same_scores(TINY, [query])


def test_empty_document_and_all_common_terms() -> None:
    corpus = [["a", "b"], ["a", "b", "b"], [], ["a", "b", "c"]]
    assert_same_scores(corpus, [["a"], ["b"], ["c"], ["a", "b", "c", "c"], ["zzz"]])


def test_majority_terms_make_mean_idf_negative() -> None:
    # Most terms are in most documents, so the mean IDF (and the floor) is negative.
    corpus = [["x", "y", "z"], ["x", "y", "z"], ["x", "y"], ["x", "z", "w"]]
    assert_same_scores(corpus, [["x"], ["y"], ["w"], ["x", "w"], ["y", "z", "y"]])


def test_single_document() -> None:
    assert_same_scores([["only", "one", "one"]], [["one"], ["only", "one"], ["none"]])


def test_search_matches_reference_order(real_corpus: list[list[str]]) -> None:
    ours = BM25Index.build(real_corpus)
    reference = BM25Okapi(real_corpus)
    for q in load_questions(default_questions_path())[:30]:
        tokens = tokenize(q.question)
        expected = reference.get_scores(tokens)
        hits = ours.search(tokens, 10)
        positive = np.flatnonzero(expected > 0)
        assert len(hits.ids) == min(10, len(positive))
        # Same documents up to float32 ties: the k-th reference score bounds every hit.
        if len(hits.ids):
            kth = np.sort(expected[positive])[::-1][len(hits.ids) - 1]
            assert (expected[hits.ids] >= kth - 1e-4).all()
            assert (np.diff(hits.scores) <= 0).all()


@pytest.mark.parametrize("n", [50, 30_000, 300_000])
@pytest.mark.parametrize("kind", ["dense", "sparse", "ties"])
def test_top_candidates_hold_the_exact_top_k(n: int, kind: str) -> None:
    # The sampled threshold must never lose a document of the exact top k.
    from csto_qa.retrieval.lexical import top_candidates

    rng = np.random.default_rng(n)
    scores = rng.random(n).astype(np.float32)
    if kind == "sparse":
        scores[rng.random(n) < 0.995] = 0
    if kind == "ties":
        scores = np.round(scores * 3).astype(np.float32)
    positive = np.flatnonzero(scores > 0)
    for k in (1, 10, 200):
        expected = positive[np.lexsort((positive, -scores[positive]))][:k]
        found = top_candidates(scores, k)
        assert np.array_equal(found[np.lexsort((found, -scores[found]))][:k], expected)
