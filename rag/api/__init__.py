"""The OpenAI-compatible HTTP API (``rag api``)."""

from rag.api.app import assistant_for, create_app, model_ids, serve

__all__ = ["assistant_for", "create_app", "model_ids", "serve"]
