"""An embedder that loads its model on first use, so that commands needing none (``rag docs``,
``rag delete``, ``rag doctor`` of a clean index) never pay for it.

The knowledge base needs the model's id and dimension when it opens (they are checked against the
collection's metadata); for the builtin model both are known without loading it, whichever backend
serves it (ONNX, PyTorch or the packaged engine, all the same vector space). For another model the
dimension is only known once it is loaded, so asking for it loads the model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from rag.embedding.base import Embedder
from rag.errors import EmbeddingError
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

BUILTIN_DIMENSION = 384  # multilingual-e5-small


class LazyEmbedder:
    """Stands in for the embedder ``load()`` returns, calling it once, on the first vector asked
    for (or the first attribute the protocol does not cover)."""

    def __init__(self, load: Callable[[], Embedder], *, model_id: str, dimension: int | None = None) -> None:
        if not model_id:
            raise ValueError(f"model_id must be non-empty; got {model_id!r}")
        if dimension is not None and dimension < 1:
            raise ValueError(f"dimension must be at least 1 or None; got {dimension!r}")
        self._load, self._model_id, self._dimension = load, model_id, dimension
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    @property
    def inner(self) -> Embedder:
        """The real embedder (loaded now if it was not)."""
        inner = self._inner
        if inner is not None:
            return inner
        with self._lock:
            if self._inner is None:
                built = self._load()
                if built.model_id != self._model_id or (
                    self._dimension is not None and built.dimension != self._dimension
                ):
                    raise EmbeddingError(
                        f"the embedding model loaded as {built.model_id} (dimension {built.dimension}), "
                        f"expected {self._model_id} (dimension {self._dimension})"
                    )
                self._inner = built
            return self._inner

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension if self._dimension is not None else self.inner.dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.inner, name)


def lazy_embedder(settings: Settings) -> LazyEmbedder:
    """The embedder ``create_embedder(settings)`` would build, loaded on first use."""
    from rag.embedding.factory import create_embedder

    model = settings.embedding_model.strip()
    builtin = model == DEFAULT_EMBEDDING_MODEL
    return LazyEmbedder(
        lambda: create_embedder(settings),
        model_id=model,
        dimension=BUILTIN_DIMENSION if builtin else None,
    )
