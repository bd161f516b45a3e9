"""A disk cache of sentence and question vectors for training runs: the training data's ~15k
sentences take minutes to embed on two cores, and a second run with other features or models
should not pay that again. Keyed by model id and text; lives under the data directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from rag.embedding.base import Embedder


class DiskCachedEmbedder:
    """Wraps an embedder; vectors already computed for a text (query or passage) are reused."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner, self.path = inner, path
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if path.is_file():
            with np.load(path) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha1(f"{self.inner.model_id}\0{kind}\0{text}".encode()).hexdigest()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._key("p", t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            for text, vector in zip(unique, self.inner.embed_passages(unique), strict=True):
                self._vectors[self._key("p", text)] = vector
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        key = self._key("q", text)
        if key not in self._vectors:
            self._vectors[key] = self.inner.embed_query(text)
            self._dirty = True
        return self._vectors[key]

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="U40")
        vectors = np.stack(list(self._vectors.values())).astype(np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self.path)
        self._dirty = False
