"""UI test fixtures: assistant pools over an in-memory Chroma and the hash embedder; the real
serving stack (FastAPI + mounted Gradio app) on a free loopback port in a thread."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rag.index import KnowledgeBase
from rag.pipeline import Assistant
from rag.settings import Settings
from ui.serve import ServeOptions, build_server
from ui.service import AssistantPool
from vectorstore.chroma_store import make_client


@pytest.fixture
def make_pool(tmp_path, hash_embedder):
    """``make_pool(**settings)``: a pool whose assistants use the hash embedder and an in-memory
    Chroma; collections get a unique prefix so tests never share one."""
    client = make_client()
    prefix = f"t{uuid.uuid4().hex[:8]}"

    def factory(**overrides) -> AssistantPool:
        overrides.setdefault("collection", f"{prefix}-main")
        settings = Settings(data_dir=tmp_path / "data", progress=False, **overrides)

        def assistant(s: Settings) -> Assistant:
            return Assistant(s, kb=KnowledgeBase(settings=s, embedder=hash_embedder, client=client))

        return AssistantPool(settings, factory=assistant, client=client)

    factory.prefix = prefix
    return factory


@pytest.fixture
def corpus_pool(make_pool, corpus_copy):
    """A pool whose default collection holds the bundled corpus (copied to a temp folder)."""
    pool = make_pool(corpus=(corpus_copy,))
    pool.get(pool.default_collection).ingest()
    return pool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    settings: Settings, pool: AssistantPool | None = None, *, auth: tuple[tuple[str, str], ...] = ()
) -> Iterator[str]:
    """Yield the base URL of a started server; stop it afterwards."""
    import uvicorn

    options = ServeOptions(host="127.0.0.1", port=free_port(), auth=auth)
    app = build_server(settings, options, pool=pool)
    config = uvicorn.Config(
        app, host=options.host, port=options.port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield options.url
    finally:
        server.should_exit = True  # open event streams are cut after the graceful second
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def serve():
    """``with serve(settings, pool) as url:`` runs the app until the block ends."""
    return running_server
