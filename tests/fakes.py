"""Fakes shared by tests (imported as ``fakes``: pytest puts the tests/ folder on sys.path)."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """Deterministic embedder for unit tests: hashed character bigrams of script-folded text."""

    model_id = "test:hash-bigrams"
    dimension = 256

    def _vector(self, text: str) -> np.ndarray:
        from rag.textnorm import fold_t2s

        folded = fold_t2s(text).lower()
        vec = np.zeros(self.dimension, dtype=np.float32)
        for a, b in zip(folded, folded[1:], strict=False):
            if a.isspace() or b.isspace():
                continue
            digest = hashlib.blake2b((a + b).encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return (
            np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
