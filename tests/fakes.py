"""Test doubles shared by the test modules."""

from __future__ import annotations

import hashlib

import numpy as np


class FakeEncoder:
    """The Encoder interface with text-seeded random unit vectors: deterministic, instant."""

    name, weights_sha256, dim, load_seconds = "fake-encoder", "", 16, 0.0

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            vector = np.random.default_rng(int.from_bytes(seed, "little")).standard_normal(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
