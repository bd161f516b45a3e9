"""The embedder seam: anything that turns texts into L2-normalised vectors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Queries and passages are embedded separately: E5-style models prefix them differently."""

    @property
    def model_id(self) -> str:
        """Identifies the vector space; recorded on the collection to catch mismatches."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Shape (len(texts), dimension), float32, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Shape (dimension,), float32, L2-normalised."""
        ...
