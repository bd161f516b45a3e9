"""A real Chroma server (`chroma run`) on a loopback port, driven through the HTTP client."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.index import KnowledgeBase
from rag.retrieve import Retriever
from rag.settings import Settings
from vectorstore.chroma_store import make_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    executable = Path(sys.executable).with_name("chroma")
    if not executable.exists():
        executable = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [str(executable), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("chroma server did not start within 60 s")
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path, hash_embedder, corpus_copy):
    settings = Settings(
        data_dir=tmp_path, collection="server-test", chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    client = make_client(host=settings.chroma_host, port=settings.chroma_port)
    kb = KnowledgeBase(settings=settings, embedder=hash_embedder, client=client)
    report = kb.ingest([corpus_copy])
    assert len(report.added) == 5 and report.chunks_written > 20
    again = KnowledgeBase(settings=settings, embedder=hash_embedder, client=client).ingest([corpus_copy])
    assert again.wrote_nothing
    passages = Retriever(kb).retrieve("武侯区产业园区高质量发展大会", k=3).passages
    assert passages[0].doc_id.startswith("002")


def test_a_filter_is_applied_inside_the_server_search(chroma_server, tmp_path, hash_embedder, corpus_copy):
    from rag.filters import make_filter

    settings = Settings(
        data_dir=tmp_path, collection="server-filter", chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    client = make_client(host=settings.chroma_host, port=settings.chroma_port)
    kb = KnowledgeBase(settings=settings, embedder=hash_embedder, client=client)
    kb.ingest([corpus_copy])
    for where in (make_filter(where=["type=新闻"], since="2023-06"), make_filter(until="2020-12-31")):
        for mode in ("hybrid", "dense", "keyword"):
            passages = Retriever(kb).retrieve("四川省现代服务业集聚区", k=5, mode=mode, where=where).passages
            stored = kb.store.get([p.chunk_id for p in passages])
            assert passages and all(where.matches(r.metadata) for r in stored), (where.description, mode)


def test_unreachable_server_is_a_clear_error():
    from rag.errors import RagError
    from rag.index import open_client
    from vectorstore.errors import StoreUnreachableError

    with pytest.raises(StoreUnreachableError, match="cannot reach the Chroma server"):
        make_client(host="127.0.0.1", port=_free_port())
    with pytest.raises(RagError, match="cannot reach the Chroma server"):
        open_client(Settings(chroma_host="127.0.0.1", chroma_port=_free_port()))
