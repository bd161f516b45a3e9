"""The OpenAI-compatible HTTP API (``rag api``)."""

from rag.api.app import KnowledgeBases, create_app, serve

__all__ = ["KnowledgeBases", "create_app", "serve"]
