"""``csto-qa bench`` runs and reports every figure; the fast runtime it measures is the reference.

Timing values are never asserted (they depend on the machine): only that each figure is
there and is a number. Tiny corpora and sizes keep this to seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from csto_qa import bench

TINY_DOCS = {
    "alpha.txt": "The Collective Security Treaty Organization was founded in 2002. "
    "Its members are Armenia, Belarus, Kazakhstan, Kyrgyzstan, Russia and Tajikistan. "
    "The headquarters are in Moscow.\n\nUzbekistan suspended its membership in 2012. "
    "Armenia froze its participation in 2024 after disputes with Azerbaijan.",
    "beta.txt": "The Collective Security Treaty was signed in Tashkent on 15 May 1992. "
    "In January 2022 the organization sent peacekeepers to Kazakhstan during unrest. "
    "The force left the country within weeks.",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in TINY_DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return {"root": root, "corpus": corpus, "index": root / "index"}


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_bench_module_imports_nothing_heavy() -> None:
    code = (
        "import argparse, sys, csto_qa.bench as b; b.add_arguments(argparse.ArgumentParser());"
        "print([m for m in ('numpy','torch','faiss','onnxruntime','scipy','gradio') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_bench_reports_every_figure(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny["root"] / "out"
    args = parse(
        *("--corpus-dir", str(tiny["corpus"]), "--index-dir", str(tiny["index"]), "--out", str(out)),
        *("--repeat", "1", "--cold-runs", "1", "--limit", "4", "--skip", "app"),
    )
    assert bench.run(args) == 0
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    stages = report["query"]["stages"]
    assert set(stages) == set(bench.STAGES)
    for stage in stages.values():
        assert all(is_number(stage[key]) for key in ("median_ms", "p95_ms", "cpu_median_ms", "cpu_p95_ms"))
        assert stage["n"] == 4
    assert is_number(report["query"]["target"]["end_to_end_p95_over_encode_p95"])
    build = report["build"]
    assert build["chunks"] >= 1 and build["cli_index_ok"] is True
    for key in (
        "in_process_s",
        "chunks_per_s",
        "cli_index_s",
        "cli_index_empty_model_cache_s",
        "cli_index_peak_mb",
    ):
        assert is_number(build[key]), key
    startup = report["startup"]
    for name in ("help", "index_load", "model_load", "cli_first_answer"):
        assert startup[name]["ok"] is True, startup[name]
        assert is_number(startup[name]["median_s"]) and startup[name]["peak_mb"] > 0
    assert is_number(startup["index_load"]["in_process_median_s"])
    assert "skipped" in startup["app_ready"]
    assert report["memory"]["bench_peak_mb"] > 0
    table = capsys.readouterr().out
    for word in ("end_to_end", "Index build", "cli_first_answer", "Peak memory"):
        assert word in table


@pytest.mark.slow
def test_app_ready_is_measured(tiny: dict[str, Path]) -> None:
    pytest.importorskip("gradio")
    engine_args = ["--index-dir", str(tiny["index"]), "--corpus-dir", str(tiny["corpus"])]
    figure = bench.app_ready(engine_args)
    assert is_number(figure["wall_s"]) and figure["peak_mb"] > 0


@pytest.mark.slow
def test_scale_reports_every_figure(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny["root"] / "scale"
    args = parse(
        *("--corpus-dir", str(tiny["corpus"]), "--index-dir", str(tiny["index"]), "--out", str(out)),
        *("--scale", "300", "1k", "--hnsw", "8,32", "--repeat", "1", "--limit", "3"),
    )
    assert bench.run(args) == 0
    sizes = json.loads((out / "bench-scale.json").read_text(encoding="utf-8"))["sizes"]
    assert [s["n"] for s in sizes] == [300, 1000]
    for size in sizes:
        assert all(is_number(v) for v in size["build"].values())
        assert size["bytes"]["bm25"] > 0 and size["bytes"]["dense"] == size["n"] * 384 * 4
        assert is_number(size["query"]["excluding_encoding"]["p95_ms"])
        assert {"bm25", "dense", "fusion", "assembly"} <= set(size["query"]["stages"])
        assert size["rss"]["peak_mb"] > 0 and size["process"]["peak_mb"] > 0
        hnsw = size["hnsw"]
        assert [row["ef_search"] for row in hnsw["by_ef_search"]] == [8, 32]
        assert all(0 <= row["recall_at_10"] <= 1 for row in hnsw["by_ef_search"])
    assert "recall@10" in capsys.readouterr().out


def test_parse_size() -> None:
    from csto_qa.bench_scale import parse_size

    assert [parse_size(s) for s in ("1k", "10K", "1M", "2500", "0.5k")] == [
        1000,
        10_000,
        1_000_000,
        2500,
        500,
    ]
    with pytest.raises(ValueError, match="not a number"):
        parse_size("lots")


@pytest.mark.slow
def test_synthetic_passages_are_real_sentences_with_matching_tokens(index_dir: Path) -> None:
    from csto_qa.bench_scale import Pool, Synthetic
    from csto_qa.tokenizing import tokenize

    pool = Pool.load(index_dir)
    synthetic = Synthetic(pool, 250, seed=3)
    stored = synthetic.stored(None, None)
    term_ids, lengths = synthetic.term_ids()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    names = {i: t for t, i in pool.vocab.items()}
    for chunk_id in (0, 1, 99, 100, 249):
        chunk = stored.chunks[chunk_id]
        assert stored.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
        first, last = chunk.sentences
        for sid in range(first, last):
            sentence = stored.sentences[sid]
            text = stored.documents[sentence.doc_id].text[sentence.start : sentence.end]
            assert text in pool.texts
            assert np.array_equal(
                stored.sentence_vectors[sid : sid + 1][0], pool.vectors[pool.texts.index(text)]
            )
        ids = term_ids[offsets[chunk_id] : offsets[chunk_id + 1]]
        assert Counter(names[i] for i in ids.tolist()) == Counter(tokenize(chunk.text))


# --- the runtime the benchmark adopted: ONNX graph of the bundled weights -----------------------


@pytest.mark.slow
def test_onnx_encoder_matches_sentence_transformers(index_dir: Path) -> None:
    from csto_qa.embedding import load_encoder
    from csto_qa.storage import load_index

    stored = load_index(index_dir)
    texts = [c.index_text for c in stored.chunks[:40]] + ["", "CSTO", "x " * 400]
    onnx = load_encoder(runtime="onnx")
    torch = load_encoder(runtime="torch")
    assert (onnx.runtime, torch.runtime, onnx.name) == ("onnx", "torch", torch.name)
    a, b = onnx.encode(texts), torch.encode(texts)
    assert a.shape == b.shape and a.dtype == np.float32
    assert np.min(np.sum(a * b, axis=1)) > 0.99999
    question = "When was the CSTO founded?"
    np.testing.assert_allclose(onnx.encode_query(question), torch.encode_query(question), atol=1e-5)


@pytest.mark.slow
def test_onnx_cache_is_verified_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from csto_qa import embedding

    monkeypatch.setenv(embedding.CACHE_ENV, str(tmp_path))
    first = embedding.load_encoder(runtime="onnx")
    (graph,) = (tmp_path / "onnx").glob("*.onnx")
    meta = json.loads(graph.with_suffix(".json").read_text())
    assert meta["source_sha256"] == embedding.BUNDLED_SHA256
    reference = first.encode_query("Which countries are members?")
    graph.write_bytes(graph.read_bytes()[:-1000])  # damaged: must be rebuilt, not used
    again = embedding.load_encoder(runtime="onnx")
    assert json.loads(graph.with_suffix(".json").read_text())["sha256"] == meta["sha256"]
    np.testing.assert_array_equal(again.encode_query("Which countries are members?"), reference)


def test_unknown_runtime_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from csto_qa.embedding import RUNTIME_ENV, resolve_runtime
    from csto_qa.errors import ModelError

    monkeypatch.setenv(RUNTIME_ENV, "cuda")
    with pytest.raises(ModelError, match="CSTO_QA_RUNTIME"):
        resolve_runtime()


def test_dense_search_keeps_thread_setting_and_reconstructs_in_batch() -> None:
    import faiss

    from csto_qa.dense import DenseIndex

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
