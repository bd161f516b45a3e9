"""Embedding models behind one protocol."""

from rag.embedding.base import Embedder
from rag.embedding.factory import create_embedder

__all__ = ["Embedder", "create_embedder"]
