"""The embedding loader: verified ONNX cache, the standard export, no environment writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from csto_qa.embedding import encoder as embedding
from csto_qa.embedding import export as embedding_export
from csto_qa.errors import ModelError

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "ab" * 32  # a stand-in weights hash: the fast tests never read real weights


@pytest.fixture
def fake_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Route the cache to tmp_path and record every export / quantisation instead of running it."""
    calls: list[str] = []

    def export(model_dir: Path) -> bytes:
        calls.append("export")
        return b"fp32 graph %d" % len(calls)

    def quantize(graph: bytes) -> bytes:
        calls.append("quantize")
        return b"int8 of " + graph

    monkeypatch.setenv(embedding.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(embedding_export, "export_graph", export)
    monkeypatch.setattr(embedding_export, "quantize_graph", quantize)
    return calls


def test_cached_graph_is_reused_while_its_hash_matches(tmp_path: Path, fake_export: list[str]) -> None:
    first, path = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    again, same = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    assert (again, same, fake_export) == (first, path, ["export"])
    assert path is not None and path.name.endswith(f"-fp32-v{embedding.ONNX_GRAPH_VERSION}.onnx")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta == {
        "source_sha256": DIGEST,
        "sha256": embedding._sha256(first),
        "graph_version": embedding.ONNX_GRAPH_VERSION,
    }


def test_tampered_graph_is_refused_and_rebuilt(tmp_path: Path, fake_export: list[str]) -> None:
    _, path = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    assert path is not None
    path.write_bytes(b"someone else's graph")
    rebuilt, _ = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    assert fake_export == ["export", "export"] and rebuilt == b"fp32 graph 2"
    assert path.read_bytes() == rebuilt


def test_graph_of_other_weights_is_rebuilt(tmp_path: Path, fake_export: list[str]) -> None:
    _, path = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    assert path is not None
    meta = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**meta, "source_sha256": "cd" * 32}))
    embedding._cached_graph(tmp_path, DIGEST, int8=False)
    assert fake_export == ["export", "export"]


def test_int8_graph_quantises_the_cached_fp32_export(tmp_path: Path, fake_export: list[str]) -> None:
    fp32, _ = embedding._cached_graph(tmp_path, DIGEST, int8=False)
    int8, path = embedding._cached_graph(tmp_path, DIGEST, int8=True)
    assert fake_export == ["export", "quantize"] and int8 == b"int8 of " + fp32
    assert path is not None and "-int8-" in path.name


def _constant_direction_graph(hidden: int) -> bytes:
    """A valid graph with the runtime's inputs whose every token vector points the same way."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids", "axis"], ["column"]),
        helper.make_node("Mul", ["column", "ones"], ["token_embeddings"]),
    ]
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
        for n in ("input_ids", "attention_mask")
    ]
    output = helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "seq", hidden])
    constants = [
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis"),
        numpy_helper.from_array(np.ones(hidden, dtype=np.float32), "ones"),
    ]
    graph = helper.make_graph(nodes, "wrong", inputs, [output], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def test_graph_that_fails_the_known_answer_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = embedding.bundled_model_dir()  # config and tokenizer only: no weights are read
    monkeypatch.setenv(embedding.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(embedding_export, "export_graph", lambda _: _constant_direction_graph(384))
    with pytest.raises(ModelError, match="differ from the reference"):
        embedding.OnnxBert.load(model_dir, DIGEST)


# --- the real export (one per module: ~40 s on two shared cores) ---------------------------------


@pytest.fixture(scope="module")
def exported_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache folder holding the real exported graph of the bundled weights."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(embedding.CACHE_ENV, str(folder))
        embedding.load_encoder(runtime="onnx")  # exports, then passes the known-answer check
    yield folder


@pytest.mark.slow
def test_export_is_fused_and_matches_sentence_transformers(
    exported_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    monkeypatch.setenv(embedding.CACHE_ENV, str(exported_cache))
    monkeypatch.setattr(embedding_export, "export_graph", _no_export)
    onnx_encoder = embedding.load_encoder(runtime="onnx")
    (graph,) = (exported_cache / "onnx").glob("*-fp32-*.onnx")
    ops = Counter(node.op_type for node in onnx.load(str(graph)).graph.node)
    layers = 6  # all-MiniLM-L6-v2: 6 layers, each one Attention, two SkipLayerNorm, one BiasGelu
    assert (ops["EmbedLayerNormalization"], ops["Attention"], ops["BiasGelu"]) == (1, layers, layers)
    assert ops["SkipLayerNormalization"] == 2 * layers and ops["MatMul"] == 3 * layers
    texts = ["When was the CSTO founded?", "", "Armenia froze its participation in 2023.", "x " * 400]
    reference = embedding.load_encoder(runtime="torch")
    found, expected = onnx_encoder.encode(texts), reference.encode(texts)
    assert found.dtype == np.float32 and found.shape == expected.shape
    assert np.min(np.sum(found * expected, axis=1)) >= 0.99999


def _no_export(model_dir: Path) -> bytes:
    raise AssertionError(f"exported {model_dir} again although the cache held a verified graph")


_WARM_START = """
import json, os, sys
before = dict(os.environ)
from csto_qa.embedding import encoder as embedding
from csto_qa.embedding import export as embedding_export
def refuse(model_dir):
    raise SystemExit("exported again")
embedding_export.export_graph = refuse
encoder = embedding.load_encoder(runtime=sys.argv[1])
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"torch": "torch" in sys.modules, "changed": changed, "runtime": encoder.runtime}))
"""


def _run(script: str, *args: str, cache: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(ROOT), **{embedding.CACHE_ENV: str(cache)})
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnx", "onnx-int8"])
def test_warm_start_neither_exports_nor_imports_torch_nor_writes_env(
    exported_cache: Path, runtime: str
) -> None:
    if runtime == "onnx-int8":  # quantise once (from the cached fp32 graph), then start warm
        _run(_WARM_START, runtime, cache=exported_cache)
    result = _run(_WARM_START, runtime, cache=exported_cache)
    assert result == {"torch": False, "changed": [], "runtime": runtime}


_LIBRARY_ONLY = """
import json, os
before = dict(os.environ)
from sentence_transformers import SentenceTransformer
from csto_qa.embedding.encoder import bundled_model_dir
SentenceTransformer(str(bundled_model_dir()), device="cpu", local_files_only=True)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"torch": True, "changed": changed, "runtime": "torch"}))
"""


@pytest.mark.slow
def test_torch_runtime_writes_no_environment_variable_of_its_own(tmp_path: Path) -> None:
    # torch and sentence-transformers set KMP_* / TORCHINDUCTOR_CACHE_DIR when imported;
    # csto-qa must add nothing to that (it used to set HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE).
    library = _run(_LIBRARY_ONLY, cache=tmp_path)
    ours = _run(_WARM_START, "torch", cache=tmp_path)
    assert ours == library
    changed = ours["changed"]
    assert isinstance(changed, list)
    assert not [k for k in changed if k.startswith(("HF_", "TRANSFORMERS_"))]


def test_unknown_runtime_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from csto_qa.embedding.encoder import RUNTIME_ENV, resolve_runtime

    monkeypatch.setenv(RUNTIME_ENV, "cuda")
    with pytest.raises(ModelError, match="CSTO_QA_RUNTIME"):
        resolve_runtime()


def test_texts_are_encoded_a_block_at_a_time_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # A build's transient memory (token ids of every text) grows with the block, not the corpus.
    monkeypatch.setattr(embedding, "ENCODE_BLOCK", 3)
    calls: list[int] = []

    class Stub:
        def get_embedding_dimension(self) -> int:
            return 2

        def encode(self, texts: list[str], **_: object) -> np.ndarray:
            calls.append(len(texts))
            return np.array([[float(t), 1.0] for t in texts], dtype=np.float32)

    encoder = embedding.Encoder("stub", "", Stub())
    vectors = encoder.encode([str(i) for i in range(8)])
    assert calls == [3, 3, 2]
    assert vectors[:, 0].tolist() == [float(i) for i in range(8)] and vectors.dtype == np.float32
    assert encoder.encode([]).shape == (0, 2)
