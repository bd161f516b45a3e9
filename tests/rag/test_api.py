"""The OpenAI-compatible API with FastAPI's TestClient over the hash-embedder knowledge base."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from rag.api import create_app
from rag.generate.llm import LLMGenerator
from rag.index import KnowledgeBase
from rag.pipeline import Assistant
from rag.pool import AssistantPool
from rag.settings import Settings
from vectorstore.chroma_store import make_client

CLUSTERS = "四川省成功创建了多少个省级现代服务业集聚区？"


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


def client_for(assistant: Assistant) -> TestClient:
    return TestClient(create_app(AssistantPool.serving(assistant)))


@pytest.fixture
def client(kb):
    return client_for(Assistant(kb.settings, kb=kb))


def ask(client: TestClient, *messages: tuple[str, str], **extra) -> dict:
    body = {"model": "tianfu-rag", "messages": [{"role": r, "content": c} for r, c in messages], **extra}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def stream(client: TestClient, *messages: tuple[str, str]) -> list:
    body = {
        "model": "tianfu-rag",
        "stream": True,
        "messages": [{"role": r, "content": c} for r, c in messages],
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def test_health_and_models(client, kb):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["generator"] == "extractive" and health["chunks"] > 0
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    # the default first; then every other collection of the client (in-memory Chroma is shared by
    # the tests of this process, so there may be some)
    assert ids[:2] == ["tianfu-rag", f"tianfu-rag:{kb.settings.collection}"]
    assert all(i.startswith("tianfu-rag:") for i in ids[1:])
    assert client.get(f"/v1/models/tianfu-rag:{kb.settings.collection}").json()["object"] == "model"


def test_completion_has_the_cited_answer_with_footnotes_citations_and_details(client):
    data = ask(client, ("system", "Be brief."), ("user", CLUSTERS))
    assert data["object"] == "chat.completion" and data["model"] == "tianfu-rag"
    content = data["choices"][0]["message"]["content"]
    answer, notes = content.split("\n\n", 1)
    assert "49个省级现代服务业集聚区" in answer and "[1]" in answer
    assert notes.startswith(
        "[1] 四川省人民政府办公厅关于表扬四川省现代服务业集聚区创新发展先进单位的通报, 2020-06-01 — "
    )
    citation = data["citations"][0]
    assert citation["doc_id"].startswith("000") and citation["span"] in notes
    assert data["x_rag"]["support"] == 1.0 and data["x_rag"]["abstained"] is False
    assert data["x_rag"]["rewritten_question"] is None and data["choices"][0]["finish_reason"] == "stop"


def test_stream_sends_openai_chunks_and_ends_with_citations(client):
    chunks = stream(client, ("user", CLUSTERS))
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == ask(client, ("user", CLUSTERS))["choices"][0]["message"]["content"]
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"][0]["doc_id"].startswith("000")
    assert last["x_rag"]["support"] == 1.0


def test_earlier_messages_are_the_conversation_for_follow_ups(client):
    data = ask(
        client,
        ("user", "四川省已成功创建多少个省级现代服务业集聚区？"),
        ("assistant", "四川省成功创建49个省级现代服务业集聚区。"),
        ("user", "那成都呢？"),
    )
    assert data["x_rag"]["question"] == "那成都呢？"
    assert data["x_rag"]["rewritten_question"] == "成都已成功创建多少个省级现代服务业集聚区？"


def test_a_question_inside_question_tags_is_taken_from_them(client):
    prompt = f'Passages:\n<passage n="1">…</passage>\n\n<question>{CLUSTERS}</question>\n\nAnswer.'
    assert ask(client, ("user", prompt))["x_rag"]["question"] == CLUSTERS


def test_the_checked_text_follows_a_stream_that_verification_changed(kb):
    reply = "四川省成功创建49个省级现代服务业集聚区[1]。另有900个国家级集聚区[1]。"
    generator = LLMGenerator(GenericFakeChatModel(messages=iter([reply])))
    chunks = stream(client_for(Assistant(kb.settings, kb=kb, generator=generator)), ("user", CLUSTERS))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith(reply)
    assert "核对引用后的答案：四川省成功创建49个省级现代服务业集聚区[1]。\n\n[1] " in text
    assert chunks[-1]["x_rag"]["support"] == 0.5 and chunks[-1]["x_rag"]["verification_notes"]


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_errors_are_openai_style(client, tmp_path, hash_embedder):
    post = client.post
    message = [{"role": "user", "content": CLUSTERS}]
    unknown = error_of(post("/v1/chat/completions", json={"model": "gpt-4o", "messages": message}), 404)
    assert unknown["code"] == "model_not_found" and "GET /v1/models" in unknown["message"]
    last = [*message, {"role": "assistant", "content": "…"}]
    assert "role 'user'" in error_of(post("/v1/chat/completions", json={"messages": last}), 400)["message"]
    assert "messages" in error_of(post("/v1/chat/completions", json={"messages": []}), 400)["message"]
    bad_json = post("/v1/chat/completions", content=b"{", headers={"content-type": "application/json"})
    assert error_of(bad_json, 400)["type"] == "invalid_request_error"
    blank = [{"role": "user", "content": "  "}]
    assert "empty" in error_of(post("/v1/chat/completions", json={"messages": blank}), 400)["message"]
    assert error_of(client.get("/v1/nothing"), 404)["code"] == "not_found"
    settings = Settings(data_dir=tmp_path / "empty", collection="empty-kb", progress=False)
    empty_kb = KnowledgeBase(settings=settings, embedder=hash_embedder, client=make_client())
    empty = client_for(Assistant(empty_kb.settings, kb=empty_kb))
    for streaming in (False, True):
        body = {"messages": message, "stream": streaming}
        error = error_of(empty.post("/v1/chat/completions", json=body), 503)
        assert error["code"] == "knowledge_base_empty" and "rag ingest" in error["message"]
