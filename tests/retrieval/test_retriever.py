"""The retriever on the tiny corpus with the fake encoder: its hits equal the arithmetic
the module documents, done here by hand in plain Python, in every mode and fusion."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fakes import FakeEncoder, write_tiny_corpus

from csto_qa.config import EngineSettings
from csto_qa.index.storage import StoredIndex
from csto_qa.records import Hit
from csto_qa.retrieval.retriever import Retriever
from csto_qa.retrieval.tokenizing import tokenize

# Beside the two tiny documents, short ones of their own topics: with two passages every
# BM25 IDF is at most zero and the lexical side would return nothing to fuse.
MORE_DOCS = {
    "gamma.txt": "Kazakhstan hosted the CSTO summit in Astana. The leaders discussed border security.",
    "delta.txt": "Armenia asked the CSTO for help in 2022. Armenia later froze its participation.",
    "epsilon.txt": "The Collective Rapid Reaction Force was created in 2009. It can repel aggression.",
    "zeta.txt": "Tajikistan borders Afghanistan. The CSTO held exercises on the Tajik border.",
    "eta.txt": "Belarus and Russia are founding members. Minsk hosted a summit.",
}
QUESTIONS = [
    "When was the CSTO founded?",
    "Who froze its participation?",
    "peacekeepers in Kazakhstan",
    "Tashkent treaty 1992",
    "Armenia froze participation in 2022",
    "summit border security",
    "nothing here matches zzz",
    "",
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> StoredIndex:
    from csto_qa.index.build import build, quiet
    from csto_qa.index.storage import load_index

    root = tmp_path_factory.mktemp("retriever")
    corpus = write_tiny_corpus(root / "corpus")
    for name, text in MORE_DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build(corpus, root / "index", FakeEncoder(), report=quiet, progress=False)
    return load_index(root / "index")


def retriever(stored: StoredIndex, settings: EngineSettings, ranges: np.ndarray | None = None) -> Retriever:
    if ranges is None:
        ranges = np.asarray([c.sentences for c in stored.chunks], dtype=np.int64).reshape(-1, 2)
    return Retriever(stored.bm25, stored.dense, settings, stored.sentence_vectors, ranges)


def by_hand(
    stored: StoredIndex, settings: EngineSettings, ranges: np.ndarray, question: str, mode: str, k: int
) -> list[Hit]:
    """The retrieval rule in plain Python over every passage, no shortcut taken."""
    vector = FakeEncoder().encode_query(question)
    depth = max(settings.depth, k)
    lexical = stored.bm25.scores(tokenize(question))
    bm25 = {
        i: float(lexical[i]) for i in np.argsort(-lexical, kind="stable")[:depth].tolist() if lexical[i] > 0
    }
    passage = {i: float(stored.dense.vectors(np.asarray([i]))[0] @ vector) for i in range(len(stored.chunks))}
    first = dict(sorted(passage.items(), key=lambda kv: (-kv[1], kv[0]))[:depth])
    candidates = {"dense": list(first), "bm25": list(bm25)}.get(mode, list(dict.fromkeys([*bm25, *first])))
    w = settings.sentence_weight
    dense = {}
    for i in candidates:
        a, b = ranges[i]
        sims = [float(stored.sentence_vectors[s].astype(np.float32) @ vector) for s in range(a, b)]
        dense[i] = (1 - w) * passage[i] + w * max(sims) if sims and w > 0 else passage[i]

    def rank(scores: dict[int, float]) -> dict[int, int]:
        return {d: r for r, d in enumerate(sorted(scores, key=lambda d: (-scores[d], d)), start=1)}

    def unit(scores: dict[int, float]) -> dict[int, float]:
        lo, hi = min(scores.values(), default=0.0), max(scores.values(), default=0.0)
        return {d: 1.0 if hi == lo else (s - lo) / (hi - lo) for d, s in scores.items()}

    if mode == "bm25":
        ranking = bm25
    elif mode == "dense":
        ranking = dense
    elif settings.fusion == "rrf":
        lr, dr = rank(bm25), rank(dense)
        ranking = {
            d: sum(1 / (settings.rrf_k + r[d]) for r in (lr, dr) if d in r) for d in lr.keys() | dr.keys()
        }
    else:
        ln, dn, a = unit(bm25), unit(dense), settings.alpha
        ranking = {d: a * dn.get(d, 0.0) + (1 - a) * ln.get(d, 0.0) for d in ln.keys() | dn.keys()}
    bm25_rank, dense_rank = rank(bm25), rank(dense)
    return [
        Hit(d, ranking[d], bm25.get(d, 0.0), bm25_rank.get(d), dense[d], dense_rank.get(d))
        for d in sorted(ranking, key=lambda d: (-ranking[d], d))[:k]
    ]


def same_hits(got: list[Hit], want: list[Hit]) -> bool:
    """Same passages in the same order with the same ranks; scores equal to float rounding
    (the hand computation sums in another order than numpy)."""
    return [(h.chunk_id, h.bm25_rank, h.dense_rank) for h in got] == [
        (h.chunk_id, h.bm25_rank, h.dense_rank) for h in want
    ] and all(
        g.score == pytest.approx(w.score, abs=1e-6)
        and g.bm25_score == pytest.approx(w.bm25_score, abs=1e-5)
        and g.dense_score == pytest.approx(w.dense_score, abs=1e-6)
        for g, w in zip(got, want, strict=True)
    )


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
@pytest.mark.parametrize("fusion", ["convex", "rrf"])
@pytest.mark.parametrize("sentence_weight", [0.0, 0.75, 1.0])
def test_hits_follow_the_documented_rule(
    stored: StoredIndex, mode: str, fusion: str, sentence_weight: float
) -> None:
    settings = EngineSettings(fusion=fusion, sentence_weight=sentence_weight)
    ranges = retriever(stored, settings).chunk_sentences
    assert ranges is not None
    for question in QUESTIONS:
        for k in (1, 3, 20):
            got = retriever(stored, settings).retrieve(
                tokenize(question), FakeEncoder().encode_query(question), mode, k
            )
            want = by_hand(stored, settings, ranges, question, mode, k)
            assert same_hits(got, want), (question, mode, k)


def test_a_shallow_first_stage_rescores_the_other_sides_candidates_exactly(stored: StoredIndex) -> None:
    # depth 1: each side returns one passage; in hybrid the lexical one may be outside the
    # dense top 1, and its dense score is then computed from its stored vector.
    settings = EngineSettings(depth=1)
    r = retriever(stored, settings)
    assert r.chunk_sentences is not None
    for question in QUESTIONS:
        got = r.retrieve(tokenize(question), FakeEncoder().encode_query(question), "hybrid", 1)
        assert same_hits(got, by_hand(stored, settings, r.chunk_sentences, question, "hybrid", 1))


def test_a_passage_without_sentences_keeps_its_own_cosine(stored: StoredIndex) -> None:
    settings = EngineSettings(sentence_weight=1.0)
    ranges = np.asarray([c.sentences for c in stored.chunks], dtype=np.int64).reshape(-1, 2)
    ranges[0] = (ranges[0][0], ranges[0][0])  # chunk 0 as if it had no sentence
    question = "When was the CSTO founded?"
    vector = FakeEncoder().encode_query(question)
    hits = retriever(stored, settings, ranges).retrieve(tokenize(question), vector, "dense", 20)
    first = next(h for h in hits if h.chunk_id == 0)
    assert first.dense_score == pytest.approx(float(stored.dense.vectors(np.asarray([0]))[0] @ vector))
    assert same_hits(hits, by_hand(stored, settings, ranges, question, "dense", 20))


def test_ranks_are_none_where_a_retriever_did_not_place_the_passage(stored: StoredIndex) -> None:
    question = "Tashkent treaty 1992"  # words of a few documents only
    vector = FakeEncoder().encode_query(question)
    hits = retriever(stored, EngineSettings()).retrieve(tokenize(question), vector, "hybrid", 20)
    assert len(hits) == len(stored.chunks)  # every passage is a dense candidate
    lexical = [h for h in hits if h.bm25_rank is not None]
    assert lexical and len(lexical) < len(hits)
    assert all(h.bm25_score == 0.0 for h in hits if h.bm25_rank is None)
    assert sorted(h.bm25_rank for h in lexical if h.bm25_rank) == list(range(1, len(lexical) + 1))
    assert all(h.dense_rank is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_settings_copy_changes_only_what_it_names() -> None:
    settings = replace(EngineSettings(), fusion="rrf")
    assert settings.fusion == "rrf" and settings.depth == EngineSettings().depth


def test_the_pool_is_what_np_unique_gives() -> None:
    from csto_qa.retrieval.retriever import _pool

    rng = np.random.default_rng(0)
    for size in (0, 1, 2, 7, 105, 400):
        for _ in range(20):
            lexical = rng.permutation(2 * size + 1)[:size]
            dense = rng.permutation(2 * size + 1)[: size // 2 + 1]
            both = np.concatenate([lexical, dense]).astype(np.int64)
            ids, where = _pool(both)
            want_ids, want_where = np.unique(both, return_inverse=True)
            assert ids.tolist() == want_ids.tolist() and where.tolist() == want_where.tolist()
            assert ids.dtype == want_ids.dtype and where.dtype == np.int64
