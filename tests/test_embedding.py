"""The embedding runtime: the ONNX graph of the bundled weights matches sentence-transformers,
its cache is verified, and an unknown runtime is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


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
