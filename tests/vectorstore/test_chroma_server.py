"""A real Chroma server (`chroma run`) on a loopback port, driven through the HTTP client."""

from __future__ import annotations

import contextlib
import socket

import pytest

from rag.index import KnowledgeBase
from rag.retrieve import Retriever
from rag.settings import Settings
from vectorstore.chroma_store import make_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        make_client(host="127.0.0.1", port=free_port())
    with pytest.raises(RagError, match="cannot reach the Chroma server"):
        open_client(Settings(chroma_host="127.0.0.1", chroma_port=free_port()))


def _instance(tmp_path, name: str, chroma_url: str, collection: str, embedder):
    """One assistant instance: its own data folder (its own machine, as far as files go)."""
    from rag.index import open_client, open_knowledge_base
    from rag.pipeline import Assistant

    settings = Settings(
        data_dir=tmp_path / name, collection=collection, chroma_url=chroma_url, progress=False
    )
    kb = open_knowledge_base(settings, embedder=embedder, client=open_client(settings))
    return Assistant(settings, kb=kb)


def test_two_instances_on_one_server_see_each_others_changes_without_restart(
    chroma_url, tmp_path, hash_embedder, corpus_copy
):
    writer = _instance(tmp_path, "a", chroma_url, "two-instances", hash_embedder)
    reader = _instance(tmp_path, "b", chroma_url, "two-instances", hash_embedder)
    assert reader.kb.documents() == []
    later = sorted(corpus_copy.glob("002_*"))
    for path in later:
        path.rename(tmp_path / path.name)
    writer.ingest([corpus_copy])
    assert len(reader.kb.documents()) == 4
    writer.ingest([tmp_path / p.name for p in later])  # a new document, written by the other instance
    query = "武侯区产业园区高质量发展大会"
    for mode in ("keyword", "hybrid"):
        passages = reader.search(query, k=3, mode=mode).passages
        assert passages and passages[0].doc_id.startswith("002"), mode
    assert (tmp_path / "b" / "keyword" / "two-instances.npz").is_file()  # the reader's own copy
    removed = next(d.doc_id for d in writer.kb.documents() if d.doc_id.startswith("002"))
    writer.kb.remove_documents([removed])
    assert all(not p.doc_id.startswith("002") for p in reader.search(query, k=5, mode="keyword").passages)
    assert removed not in {d.doc_id for d in reader.kb.documents()}


def test_a_rebuild_by_another_instance_is_seen(chroma_url, tmp_path, hash_embedder, corpus_copy):
    from rag.index import drop_collection

    writer = _instance(tmp_path, "a", chroma_url, "rebuilt", hash_embedder)
    reader = _instance(tmp_path, "b", chroma_url, "rebuilt", hash_embedder)
    writer.ingest([corpus_copy])
    assert len(reader.kb.documents()) == 5
    drop_collection(writer.settings, writer.kb.store.handle)
    assert reader.kb.documents() == [] and len(reader.kb.keyword) == 0
    writer = _instance(tmp_path, "a", chroma_url, "rebuilt", hash_embedder)
    writer.ingest([next(corpus_copy.glob("000_*"))])
    assert [d.doc_id[:3] for d in reader.kb.documents()] == ["000"]
    assert reader.search("现代服务业集聚区", k=3, mode="keyword").passages


def test_the_token_goes_with_every_request(tmp_path):
    """A loopback HTTP server standing in for an authenticating proxy records the headers."""
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Authorization"))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from rag.index import open_client

        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = Settings(data_dir=tmp_path, chroma_url=url, chroma_token="s3cret")
        with contextlib.suppress(Exception):  # the stand-in refuses everything; the headers matter
            open_client(settings).list_collections()
    finally:
        server.shutdown()
    assert seen and all(h == "Bearer s3cret" for h in seen)
    assert "s3cret" not in repr(settings)
