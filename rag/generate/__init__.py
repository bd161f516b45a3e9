"""Answer generators behind one protocol."""

from rag.generate.base import Generator

__all__ = ["Generator"]
