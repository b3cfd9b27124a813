"""One size of the scale benchmark, in its own process: retrieval at N synthetic passages.

Started by :mod:`benchmarks.scale` as ``python -m benchmarks.synthetic --n N ...`` so that its
peak memory is its own. Passages are made of the real corpus' sentences drawn at random (so
term statistics are realistic and every passage reads like the corpus), with as many
sentences per passage as the real chunker makes; passage embeddings are random unit vectors
(``--vectors mixed``: the mean of the passage's real sentence vectors plus noise, which has
neighbourhood structure like real embeddings, for HNSW recall). The real BM25Index,
DenseIndex and ``Engine`` answer the eval questions with their real query vectors through
``Engine.ask`` (an encoder that looks the vectors up), so latency excludes only encoding.

Records are built on demand from compact arrays: a synthetic sentence is a real one, so its
text and embedding are looked up, never copied N times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from benchmarks.measure import CPU, STAGES, elapsed_ms, summary, time_questions
from benchmarks.processes import current_rss_mb, peak_rss_mb
from csto_qa.config import MODES, Mode
from csto_qa.records import Chunk, Document, Sentence

if TYPE_CHECKING:
    from csto_qa.index.storage import StoredIndex
    from csto_qa.retrieval.dense import DenseIndex
    from csto_qa.retrieval.lexical import BM25Index

PASSAGES_PER_DOC = 100
BLOCK = 50_000  # vectors generated and added per block, to bound peak memory


@dataclass
class Pool:
    """The real corpus' sentences: text, BM25 term ids (flat + offsets) and embeddings."""

    texts: list[str]
    term_ids: np.ndarray
    term_offsets: np.ndarray
    vocab: dict[str, int]
    vectors: np.ndarray
    per_passage: np.ndarray  # sentences per passage of the real chunks (sampled from)

    @classmethod
    def load(cls, index_dir: Path) -> Pool:
        from csto_qa.index.storage import load_index
        from csto_qa.retrieval.tokenizing import tokenize

        stored = load_index(index_dir)
        texts = [stored.documents[s.doc_id].text[s.start : s.end] for s in stored.sentences]
        vocab: dict[str, int] = {}
        ids: list[int] = []
        offsets = [0]
        for text in texts:
            ids.extend(vocab.setdefault(t, len(vocab)) for t in tokenize(text))
            offsets.append(len(ids))
        per_passage = np.array([max(1, b - a) for a, b in (c.sentences for c in stored.chunks)] or [1])
        vectors = np.asarray(stored.sentence_vectors, dtype=np.float32)
        return cls(texts, np.array(ids, np.int32), np.array(offsets, np.int64), vocab, vectors, per_passage)


class Synthetic:
    """N passages of pool sentences, grouped ``PASSAGES_PER_DOC`` to a document."""

    def __init__(self, pool: Pool, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.pool, self.n = pool, n
        counts = rng.choice(pool.per_passage, size=n).astype(np.int64)
        self.passage_start = np.concatenate([[0], np.cumsum(counts)])
        total = int(self.passage_start[-1])
        self.sentence_pool = rng.integers(0, len(pool.texts), size=total, dtype=np.int32)
        self.doc_of_sentence = np.repeat((np.arange(n) // PASSAGES_PER_DOC).astype(np.int32), counts)
        # Character offsets inside each document: sentences joined by one space.
        lengths = np.array([len(t) for t in pool.texts], dtype=np.int64)[self.sentence_pool]
        ends = np.cumsum(lengths + 1)
        starts = ends - lengths - 1
        first = self.passage_start[:-1:PASSAGES_PER_DOC]
        self.sentence_start = starts - starts[first][self.doc_of_sentence]
        self.sentence_end = self.sentence_start + lengths
        self.n_docs = len(first)
        self.doc_first = np.append(first, total)

    def term_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat term ids of every passage, and each passage's length in tokens."""
        p = self.pool
        lengths = np.diff(p.term_offsets)[self.sentence_pool]
        total = int(lengths.sum())
        # Position j of sentence i's tokens comes from pool offset start_i + j.
        shift = np.repeat(p.term_offsets[self.sentence_pool] - (np.cumsum(lengths) - lengths), lengths)
        flat = p.term_ids[shift + np.arange(total, dtype=np.int64)]
        per_passage = np.add.reduceat(lengths, self.passage_start[:-1]) if self.n else np.zeros(0, np.int64)
        return flat, per_passage

    def vector_blocks(self, kind: str, seed: int = 1, dim: int = 384) -> Iterator[np.ndarray]:
        """Unit passage vectors in blocks, the same for the same seed."""
        rng = np.random.default_rng(seed)
        for start in range(0, self.n, BLOCK):
            stop = min(start + BLOCK, self.n)
            block = rng.standard_normal((stop - start, dim), dtype=np.float32)
            if kind == "mixed":  # mean of the passage's real sentence vectors, plus noise
                rows = self.sentence_pool[self.passage_start[start] : self.passage_start[stop]]
                sums = np.add.reduceat(
                    self.pool.vectors[rows], self.passage_start[start:stop] - self.passage_start[start]
                )
                block = sums / np.linalg.norm(sums, axis=1, keepdims=True) + 0.02 * block
            yield block / np.linalg.norm(block, axis=1, keepdims=True)

    @lru_cache(maxsize=512)  # noqa: B019 - one instance per process, lives as long as it
    def doc_text(self, doc: int) -> str:
        rows = self.sentence_pool[self.doc_first[doc] : self.doc_first[doc + 1]]
        return " ".join(self.pool.texts[i] for i in rows)

    def stored(self, bm25: BM25Index, dense: DenseIndex) -> StoredIndex:
        from csto_qa.index.manifest import BM25Info, CorpusInfo, Counts, DenseInfo, IndexManifest, ModelInfo
        from csto_qa.index.storage import StoredIndex
        from csto_qa.ingest.chunking import ChunkParams

        manifest = IndexManifest.new(
            model=ModelInfo("precomputed", "", dense.dim),
            corpus=CorpusInfo(files={}, skipped=(), manifest=False, accounts=()),
            chunking=ChunkParams(),
            bm25=BM25Info(bm25.k1, bm25.b, bm25.epsilon, len(bm25.vocab)),
            dense=DenseInfo(dense.kind, "inner_product", normalized=True),
            counts=Counts(self.n_docs, len(self.sentence_pool), self.n),
        )
        # The engine only slices and takes rows of sentence_vectors; _Rows serves them from the pool
        # instead of materialising N x 384 floats (1.5 GB at a million passages).
        rows = cast(np.ndarray, _Rows(self))
        return StoredIndex(
            Path("synthetic"), manifest, _Docs(self), _Sentences(self), _Chunks(self), rows, bm25, dense
        )


class _Docs(Mapping[str, Document]):
    def __init__(self, s: Synthetic) -> None:
        self.s = s

    def __getitem__(self, doc_id: str) -> Document:
        doc = int(doc_id.removeprefix("syn-"))
        return Document(doc_id, f"Synthetic document {doc}", self.s.doc_text(doc))

    def __iter__(self) -> Iterator[str]:
        return (f"syn-{d}" for d in range(self.s.n_docs))

    def __len__(self) -> int:
        return self.s.n_docs


class _Sentences(Sequence[Sentence]):
    def __init__(self, s: Synthetic) -> None:
        self.s = s

    def __getitem__(self, i: Any) -> Any:
        s = self.s
        return Sentence(f"syn-{s.doc_of_sentence[i]}", int(s.sentence_start[i]), int(s.sentence_end[i]))

    def __len__(self) -> int:
        return len(self.s.sentence_pool)


class _Chunks(Sequence[Chunk]):
    def __init__(self, s: Synthetic) -> None:
        self.s = s

    def __getitem__(self, i: Any) -> Any:
        s = self.s
        first, last = int(s.passage_start[i]), int(s.passage_start[i + 1])
        doc = int(s.doc_of_sentence[first])
        start, end = int(s.sentence_start[first]), int(s.sentence_end[last - 1])
        text = s.doc_text(doc)[start:end]
        return Chunk(i, f"syn-{doc}", f"Synthetic document {doc}", "", start, end, text, (first, last))

    def __len__(self) -> int:
        return self.s.n


class _Rows:
    """``sentence_vectors`` of the synthetic corpus: rows of the pool's real vectors."""

    def __init__(self, s: Synthetic) -> None:
        self.s = s
        self.shape = (len(s.sentence_pool), s.pool.vectors.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.s.pool.vectors[self.s.sentence_pool[key]]

    def take(self, indices: Any, axis: int = 0) -> np.ndarray:
        """``ndarray.take`` along rows (the retriever gathers candidates' sentences so)."""
        if axis != 0:
            raise ValueError(f"_Rows.take reads rows only (axis=0), not axis={axis}")
        return self[np.asarray(indices)]


class FixedVectors:
    """An 'encoder' that returns the precomputed vector of each question (encoding excluded)."""

    name, runtime, weights_sha256 = "precomputed", "none", ""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.dim = len(next(iter(vectors.values())))

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.vectors[text]


# --- one size, in a child process ---------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from csto_qa.config import EngineSettings
    from csto_qa.engine import Engine
    from csto_qa.retrieval.dense import HNSW_EF_SEARCH, DenseIndex
    from csto_qa.retrieval.followup import contextualize
    from csto_qa.retrieval.lexical import BM25Index

    rss: dict[str, float | None] = {}

    def mark(phase: str) -> None:  # resident memory now, and the peak so far
        rss[f"{phase}_mb"], rss[f"{phase}_peak_mb"] = current_rss_mb(), peak_rss_mb()

    mark("start")
    pool = Pool.load(Path(args.index_dir))
    synthetic = Synthetic(pool, args.n, seed=args.seed)
    term_ids, lengths = synthetic.term_ids()
    mark("corpus")
    started = time.perf_counter()
    bm25 = BM25Index.from_term_ids(term_ids, lengths, pool.vocab)
    bm25_s = time.perf_counter() - started
    del term_ids, lengths
    mark("bm25")
    dense = DenseIndex.create(pool.vectors.shape[1], args.n, args.kind)
    dense_s = 0.0
    for block in synthetic.vector_blocks(args.vectors):
        started = time.perf_counter()
        dense.add(block)
        dense_s += time.perf_counter() - started
    mark("dense")
    settings = EngineSettings()
    questions = json.loads(Path(args.questions_json).read_text(encoding="utf-8"))
    vectors = np.load(args.vectors_npy)
    lookup = {}
    for q, v in zip(questions, vectors, strict=True):
        lookup[q] = lookup[contextualize(q, None)[: settings.max_query_chars]] = v
    started = time.perf_counter()
    engine = Engine(synthetic.stored(bm25, dense), FixedVectors(lookup), settings)
    engine_s = time.perf_counter() - started
    mark("engine")
    samples = time_questions(engine, questions, args.k, args.mode, args.repeat)
    mark("queries")
    stages = {stage: summary(samples[stage]) for stage in STAGES if stage != "encode"}
    result: dict[str, Any] = {
        "n": args.n,
        "sentences": len(synthetic.sentence_pool),
        "vocabulary": len(pool.vocab),
        "dense_kind": dense.kind,
        "vectors": args.vectors,
        "build": {
            "bm25_s": round(bm25_s, 3),
            "dense_s": round(dense_s, 3),
            "passages_per_s": round(args.n / max(bm25_s + dense_s, 1e-9)),
            "engine_open_s": round(engine_s, 3),
        },
        "bytes": {
            "bm25": int(sum(a.nbytes for a in (bm25.data, bm25.indices, bm25.indptr))),
            "dense": dense_bytes(dense),
        },
        "query": {
            "excluding_encoding": excluding_encoding(samples),
            "stages": stages,
            "questions": len(questions),
        },
        "rss": rss,
    }
    if args.hnsw:
        efs = [int(e) for e in args.hnsw.split(",") if e.strip()]
        graph = dense if dense.kind == "hnsw" else None
        del engine, dense  # a flat index is freed before the graph is built
        result["hnsw"] = hnsw_figures(synthetic, bm25, graph, args, efs, questions, vectors, lookup, settings)
        result["hnsw"]["default_ef_search"] = HNSW_EF_SEARCH
    result["rss"]["end_mb"] = current_rss_mb()
    result["rss"]["peak_mb"] = peak_rss_mb()
    return result


def hnsw_figures(synthetic, bm25, dense, args, efs, questions, vectors, lookup, settings) -> dict[str, Any]:
    """HNSW recall@10 against exact search and latency per efSearch, and the pipeline on it."""
    import faiss

    from csto_qa.engine import Engine
    from csto_qa.retrieval.dense import HNSW_EF_SEARCH, DenseIndex

    started = time.perf_counter()
    if dense is None:
        dense = DenseIndex.create(synthetic.pool.vectors.shape[1], synthetic.n, "hnsw")
        for block in synthetic.vector_blocks(args.vectors):
            dense.add(block)
    build_s = time.perf_counter() - started
    exact = DenseIndex(faiss.downcast_index(dense.index.storage))
    queries = np.ascontiguousarray(vectors, dtype=np.float32)
    truth = [set(exact.search(q, 10).ids.tolist()) for q in queries]
    flat_ms = [elapsed_ms(partial(exact.search, q, settings.depth)) for q in queries]
    rows = []
    for ef in efs:
        dense.index.hnsw.efSearch = ef
        found = [set(dense.search(q, 10).ids.tolist()) for q in queries]
        recall = np.mean([len(f & t) / max(len(t), 1) for f, t in zip(found, truth, strict=True)])
        ms = [elapsed_ms(partial(dense.search, q, settings.depth)) for q in queries]
        rows.append({"ef_search": ef, "recall_at_10": round(float(recall), 4), "search": summary(ms)})
    dense.index.hnsw.efSearch = HNSW_EF_SEARCH
    engine = Engine(synthetic.stored(bm25, dense), FixedVectors(lookup), settings)
    samples = time_questions(engine, questions, args.k, args.mode, 1)
    return {
        "build_s": round(build_s, 3),
        "bytes": dense_bytes(dense),
        "exact_search": summary(flat_ms),
        "by_ef_search": rows,
        "pipeline_excluding_encoding": excluding_encoding(samples),
        "rss_mb": current_rss_mb(),
    }


def excluding_encoding(samples: dict[str, list[float]]) -> dict[str, float]:
    """Summary of end-to-end minus encoding, with ask's CPU time (the precomputed 'encoder'
    takes microseconds, so that CPU time is retrieval and assembly alone)."""
    wall = summary([t - e for t, e in zip(samples["end_to_end"], samples["encode"], strict=True)])
    cpu = summary(samples[CPU])
    return {**wall, "cpu_median_ms": cpu["median_ms"], "cpu_p95_ms": cpu["p95_ms"]}


def dense_bytes(dense: Any) -> int:
    """Memory of a faiss index: the vectors, plus the graph links for HNSW."""
    size = dense.size * dense.dim * 4
    hnsw = getattr(dense.index, "hnsw", None)
    if hnsw is not None:
        size += hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4
    return int(size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--index-dir", required=True, help="the real index (its sentences are the pool)")
    parser.add_argument("--questions-json", required=True)
    parser.add_argument("--vectors-npy", required=True, help="the questions' real query vectors")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--kind", default="auto", choices=("auto", "flat", "hnsw"))
    parser.add_argument("--vectors", default="random", choices=("random", "mixed"))
    parser.add_argument("--hnsw", default="", help="efSearch values for the HNSW recall figures")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--mode", choices=MODES, default=Mode.HYBRID.value)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = measure(args)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
