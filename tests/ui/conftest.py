"""UI test fixtures: assistant pools over an in-memory Chroma and the hash embedder; the real
serving stack (FastAPI + mounted Gradio app) on a free loopback port in a thread; headless
Chromium pages on it (screenshots go to tests/artifacts/screenshots, ignored by git)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from pages import DESKTOP

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


# --- headless Chromium (the browser tests) ------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        reason = f"end-to-end UI tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium):
    """``open_page(url, viewport=DESKTOP, theme="", context=None)``: a page on a loaded app, in a
    fresh browser context unless one is given. Requests leaving the machine are blocked and
    recorded; a dialog opened by a script in the page is recorded (both fail the test)."""
    contexts, outside, dialogs = [], [], []

    def new_context(viewport=None):
        context = chromium.new_context(viewport=viewport or DESKTOP, locale="zh-CN")

        def route(request_route):
            url = request_route.request.url
            if url.startswith(("data:", "blob:")) or urlparse(url).hostname in ("127.0.0.1", "localhost"):
                request_route.continue_()
            else:
                outside.append(url)
                request_route.abort()

        context.route("**/*", route)
        contexts.append(context)
        return context

    def factory(url, viewport=None, theme="", context=None):
        page = (context or new_context(viewport)).new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url + (f"?__theme={theme}" if theme else ""))
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.wait_for_function(
            "document.querySelector('#kb-summary')?.innerText.includes('篇文档')", timeout=60_000
        )
        return page

    factory.new_context = new_context
    yield factory
    for context in contexts:
        context.close()
    assert outside == [], f"the page reached outside the machine: {outside}"
    assert dialogs == [], f"a script in the page opened a dialog: {dialogs}"
