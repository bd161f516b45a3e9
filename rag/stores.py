"""The stores the settings name: the Chroma client (embedded, or a server's), the keyword
index's file, and dropping a collection with its keyword index."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rag.errors import IndexMismatchError, RagError
from rag.locks import guard_for
from rag.settings import Settings
from vectorstore.chroma_store import delete_collection, make_client
from vectorstore.errors import StoreMismatchError, StoreUnreachableError

log = logging.getLogger(__name__)


def open_client(settings: Settings) -> Any:
    """The Chroma client the settings name: the process's embedded store under ``chroma_dir``,
    or the server at ``chroma_url`` (or ``chroma_host``), with ``chroma_token`` if set."""
    server = settings.chroma_server
    try:
        if server is None:
            return make_client(persist_dir=settings.chroma_dir)
        host, port, https = server
        return make_client(host=host, port=port, ssl=https, headers=settings.chroma_headers)
    except StoreUnreachableError as exc:
        raise RagError(str(exc)) from exc


def index_mismatch(exc: StoreMismatchError) -> IndexMismatchError:
    """The one-line error (with what to do) for a collection built with another embedding model."""
    (model, dim), (want, want_dim) = exc.recorded, exc.expected
    return IndexMismatchError(
        f"knowledge base '{exc.collection}' was built with embedding model {model} (dimension {dim}), "
        f"but the configured model is {want} (dimension {want_dim}); "
        f"re-index with `rag ingest --rebuild` or configure the original model"
    )


def keyword_path(settings: Settings) -> Path:
    return settings.data_dir / "keyword" / f"{settings.collection}.npz"  # reads an older .json too


def drop_collection(settings: Settings, client: Any | None = None) -> None:
    """Delete a collection and its keyword index (``rag ingest --rebuild``, the UI's rebuild), as
    a writer: readers in other processes see it go. Works whatever model built the collection."""
    client = client if client is not None else open_client(settings)
    guard = guard_for(settings.data_dir)
    with guard.writer(timeout=settings.write_lock_timeout, waiting=log.warning), guard.exclusive():
        guard.bump()
        try:
            delete_collection(client, settings.collection)
            keyword_path(settings).unlink(missing_ok=True)
            keyword_path(settings).with_suffix(".json").unlink(missing_ok=True)  # an older version's
        finally:
            guard.bump()
