"""Remember recent query vectors: one question is embedded by retrieval, by the extractive
generator and by citation verification; the model should run once."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from rag.embedding.base import Embedder


class QueryCachingEmbedder:
    """Wraps an embedder; ``embed_query`` results are kept for the last ``size`` distinct texts."""

    def __init__(self, inner: Embedder, *, size: int = 512) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1; got {size}")
        self.inner, self.size = inner, size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

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
