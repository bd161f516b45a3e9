"""`rag mcp` for real: the SDK's own client starts it over stdio, and talks to it over streamable
HTTP on a free loopback port; the packaged embedding model answers from an ingested document."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.slow, pytest.mark.integration]
QUESTION = "四川省已成功创建多少个省级现代服务业集聚区？"


async def exercise(client: Client) -> dict:
    tools = {t.name for t in (await client.list_tools()).tools}
    found = (await client.call_tool("search", {"query": QUESTION, "k": 2})).structured_content
    answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
    docs = (await client.call_tool("list_documents", {})).structured_content
    chunk = found["passages"][0]["chunk_id"]
    passage = (await client.call_tool("get_passage", {"chunk_id": chunk})).structured_content
    return {"tools": tools, "search": found, "ask": answer, "docs": docs, "passage": passage}


def check(seen: dict) -> None:
    assert seen["tools"] == {"search", "ask", "list_documents", "get_passage"}
    assert "49" in seen["search"]["passages"][0]["text"]
    answer = seen["ask"]
    assert not answer["abstained"] and "49" in answer["answer"] and answer["citations"]
    assert answer["citations"][0]["doc_id"] == "000_2d3ce4a55c8786ef" and answer["citations"][0]["quote"]
    assert [d["doc_id"] for d in seen["docs"]["documents"]] == ["000_2d3ce4a55c8786ef"]
    assert seen["passage"]["text"] == seen["search"]["passages"][0]["text"]


def test_stdio(ingested_env):
    params = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"], env=ingested_env)

    async def go() -> dict:
        async with Client(params, read_timeout_seconds=300) as client:
            return await exercise(client)

    check(anyio.run(go))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_on_loopback(ingested_env):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rag", "mcp", "--transport", "http", "--port", str(port)],
        env=ingested_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "rag mcp --transport http did not start listening"
            time.sleep(0.3)

        async def go() -> dict:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=300) as client:
                return await exercise(client)

        check(anyio.run(go))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_non_loopback_host_is_refused(ingested_env):
    done = subprocess.run(
        [sys.executable, "-m", "rag", "mcp", "--transport", "http", "--host", "0.0.0.0"],
        env=ingested_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "loopback only" in done.stderr and "Traceback" not in done.stderr
