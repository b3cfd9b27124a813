"""``python -m benchmarks.scale``: synthetic corpora of real sentences, and every figure reported."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fakes import write_tiny_corpus

from benchmarks import scale
from csto_qa.errors import CstoQaError


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_parse_size() -> None:
    assert [scale.parse_size(s) for s in ("1k", "10K", "1M", "2500", "0.5k")] == [
        1000,
        10_000,
        1_000_000,
        2500,
        500,
    ]
    with pytest.raises(CstoQaError, match="not a number"):
        scale.parse_size("lots")
    with pytest.raises(CstoQaError, match="at least 1"):
        scale.parse_size("0")


def test_bad_hnsw_values_fail_before_the_model_loads(capsys) -> None:
    assert scale.main(["1k", "--hnsw", "lots"]) == 2
    assert "--hnsw" in capsys.readouterr().err


@pytest.mark.slow
def test_scale_reports_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "scale"
    argv = [
        "300",
        "1k",
        "--corpus-dir",
        str(corpus),
        "--index-dir",
        str(tmp_path / "index"),
        "--out",
        str(out),
    ]
    assert scale.main([*argv, "--hnsw", "8,32", "--repeat", "1", "--limit", "3"]) == 0
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


@pytest.mark.slow
def test_synthetic_passages_are_real_sentences_with_matching_tokens(index_dir: Path) -> None:
    from benchmarks.synthetic import Pool, Synthetic
    from csto_qa.retrieval.dense import DenseIndex
    from csto_qa.retrieval.lexical import BM25Index
    from csto_qa.retrieval.tokenizing import tokenize

    pool = Pool.load(index_dir)
    synthetic = Synthetic(pool, 250, seed=3)
    term_ids, lengths = synthetic.term_ids()
    dense = DenseIndex.create(pool.vectors.shape[1], synthetic.n, "flat")
    for block in synthetic.vector_blocks("random"):
        dense.add(block)
    stored = synthetic.stored(BM25Index.from_term_ids(term_ids, lengths, pool.vocab), dense)
    assert stored.manifest.counts.chunks == 250 and stored.manifest.model.dim == dense.dim
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
