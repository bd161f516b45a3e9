"""The MCP server through the official SDK's own client: in-process here over a hash-embedder
knowledge base; over stdio and streamable HTTP with the real model in test_mcp_integration.py."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from rag.errors import ConfigError
from rag.mcp_server import build_server, check_loopback
from rag.pipeline import Assistant

QUESTION = "四川省已成功创建多少个省级现代服务业集聚区？"


@pytest.fixture
def server(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    opened = []

    def factory():
        opened.append(1)
        return Assistant(kb.settings, kb=kb)

    return build_server(factory, collection=kb.settings.collection), opened


def call(server, name: str, arguments: dict | None = None):
    async def go():
        async with Client(server) as client:
            return await client.call_tool(name, arguments or {})

    return anyio.run(go)


def test_the_tools_are_listed_with_their_schemas(server):
    mcp_server, opened = server

    async def go():
        async with Client(mcp_server) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) == {"search", "ask", "list_documents", "get_passage"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert "doc_ids" in tools["ask"].input_schema["properties"]
    assert "citations" in tools["ask"].output_schema["properties"]
    assert tools["search"].annotations.read_only_hint
    assert not opened  # the knowledge base opens on the first call, not at the handshake


def test_search_returns_passages_that_get_passage_returns_in_full(server):
    mcp_server, _ = server
    result = call(mcp_server, "search", {"query": QUESTION, "k": 3})
    assert not result.is_error
    passages = result.structured_content["passages"]
    assert len(passages) == 3 and "49" in passages[0]["text"]
    top = passages[0]
    assert top["doc_id"].startswith("000_") and top["title"] and top["date"] == "2020-06-01"
    full = call(mcp_server, "get_passage", {"chunk_id": top["chunk_id"]}).structured_content
    assert full["text"] == top["text"] and full["score"] is None and full["start"] == top["start"]
    only = call(mcp_server, "search", {"query": QUESTION, "doc_ids": ["004_8ac6a6207ac107a0"]})
    assert {p["doc_id"] for p in only.structured_content["passages"]} == {"004_8ac6a6207ac107a0"}


def test_ask_answers_with_citations(server):
    mcp_server, _ = server
    result = call(mcp_server, "ask", {"question": QUESTION})
    answer = result.structured_content
    assert not result.is_error and not answer["abstained"] and "49" in answer["answer"]
    cited = answer["citations"][0]
    assert f"[{cited['n']}]" in answer["answer"] and cited["quote"] and cited["doc_id"].startswith("000_")
    assert cited["doc_end"] > cited["doc_start"] and answer["generator"] == "extractive"
    assert "49" in result.content[0].text  # the same result as text for clients without structure


def test_list_documents_and_clear_errors(server):
    mcp_server, opened = server
    docs = call(mcp_server, "list_documents").structured_content
    assert len(docs["documents"]) == 5 and all(d["chunks"] > 0 for d in docs["documents"])
    missing = call(mcp_server, "get_passage", {"chunk_id": "nope"})
    assert missing.is_error and "no passage 'nope'" in missing.content[0].text
    bad = call(mcp_server, "search", {"query": QUESTION, "k": 500})
    assert bad.is_error and "k must be between 1 and 50" in bad.content[0].text
    empty = call(mcp_server, "ask", {"question": "  "})
    assert empty.is_error and "the question is empty" in empty.content[0].text
    assert len(opened) == 1  # one assistant, shared by every call


def test_http_is_served_on_loopback_only():
    assert check_loopback("127.0.0.1") == "127.0.0.1" and check_loopback("::1") == "::1"
    with pytest.raises(ConfigError, match="loopback only"):
        check_loopback("0.0.0.0")
