"""Remember recent vectors: one question is embedded by retrieval, by the evidence model and by
citation verification, and the same retrieved sentences come back question after question; the
model should run once for each."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from rag.embedding.base import Embedder


class QueryCachingEmbedder:
    """Wraps an embedder; ``embed_query`` results are kept for the last ``size`` distinct texts,
    ``embed_passages`` results for the last ``passage_size`` distinct passage texts."""

    def __init__(self, inner: Embedder, *, size: int = 512, passage_size: int = 8192) -> None:
        if size < 1 or passage_size < 0:
            raise ValueError(
                f"size must be at least 1 and passage_size at least 0; got {size}, {passage_size}"
            )
        self.inner, self.size, self.passage_size = inner, size, passage_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._passages: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not self.passage_size or not texts:
            return self.inner.embed_passages(texts)
        with self._lock:
            found = {t: self._passages[t] for t in dict.fromkeys(texts) if t in self._passages}
            for text in found:
                self._passages.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self.inner.embed_passages(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    vector.setflags(write=False)
                    found[text] = self._passages[text] = vector
                while len(self._passages) > self.passage_size:
                    self._passages.popitem(last=False)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._vectors.get(text)
            if cached is not None:
                self._vectors.move_to_end(text)
                return cached
        vector = self.inner.embed_query(text)
        vector.setflags(write=False)  # shared between callers
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector

    def __getattr__(self, name: str):
        # Backend details (variant, batch_size, …) stay reachable for diagnostics and tests.
        return getattr(self.inner, name)
