"""`rag api` security: API keys, throttled failures, body and question limits, no server file
readable, no non-loopback bind without keys. FastAPI's TestClient over the hash-embedder KB."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.api.app import serve
from rag.errors import ConfigError
from rag.pipeline import Assistant
from rag.pool import AssistantPool
from rag.security import FailureThrottle, check_bind, read_api_keys
from rag.settings import Settings

QUESTION = {
    "model": "tianfu-rag",
    "messages": [{"role": "user", "content": "四川省成功创建了多少个省级现代服务业集聚区？"}],
}


@pytest.fixture
def assistant(make_kb, corpus_copy):
    kb = make_kb(max_request_kb=64, max_question_chars=500, login_max_failures=3)
    kb.ingest([corpus_copy])
    return Assistant(kb.settings, kb=kb)


@pytest.fixture
def locked(assistant):
    return TestClient(create_app(AssistantPool.serving(assistant), api_keys=("k-right-1", "k-right-2")))


def test_keys_are_required_on_every_route_but_health(locked):
    assert locked.get("/health").status_code == 200
    for response in (locked.get("/v1/models"), locked.post("/v1/chat/completions", json=QUESTION)):
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
        assert response.headers["www-authenticate"] == "Bearer"
    ok = locked.post("/v1/chat/completions", json=QUESTION, headers={"Authorization": "Bearer k-right-2"})
    assert ok.status_code == 200 and "49" in ok.json()["choices"][0]["message"]["content"]


def test_wrong_keys_are_throttled_per_client(locked):
    wrong = {"Authorization": "Bearer guess"}
    assert [locked.get("/v1/models", headers=wrong).status_code for _ in range(3)] == [401, 401, 401]
    blocked = locked.get("/v1/models", headers={"Authorization": "Bearer k-right-1"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert "too many requests with a wrong API key" in blocked.json()["error"]["message"]


def test_the_throttle_forgets_failures_after_the_window():
    now = [0.0]
    throttle = FailureThrottle(2, window=60, clock=lambda: now[0])
    throttle.failed("a"), throttle.failed("a")
    assert throttle.retry_after("a") == 60 and throttle.retry_after("b") == 0
    now[0] = 61
    assert throttle.retry_after("a") == 0


def test_a_body_over_the_limit_is_413_declared_or_streamed(assistant):
    client = TestClient(create_app(AssistantPool.serving(assistant)))
    big = {**QUESTION, "padding": "x" * 70_000}
    response = client.post("/v1/chat/completions", json=big)
    assert response.status_code == 413 and "max_request_kb" in response.json()["error"]["message"]

    def chunks():
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}]}'

    streamed = client.post(
        "/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_a_long_question_is_refused_without_echoing_it(assistant):
    client = TestClient(create_app(AssistantPool.serving(assistant)))
    long = {"messages": [{"role": "user", "content": "问题" * 5000}]}
    response = client.post("/v1/chat/completions", json=long)
    assert response.status_code in (400, 413)
    response = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "问" * 600}]}
    )
    assert response.status_code == 400 and "the limit is 500 (max_question_chars)" in response.text
    assert "问问问" not in response.text


def test_an_unknown_document_filter_is_404(assistant):
    client = TestClient(create_app(AssistantPool.serving(assistant)))
    response = client.post("/v1/chat/completions", json={**QUESTION, "doc_ids": ["nope"]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "document_not_found"


def test_no_server_file_is_readable_through_any_route(assistant, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-7f3a", encoding="utf-8")
    client = TestClient(create_app(AssistantPool.serving(assistant)))
    for path in (
        f"/v1/models/{secret}",
        f"/v1/models/..%2F..%2F{secret}",
        f"/file={secret}",
        f"/gradio_api/file={secret}",
        f"/static/..%2F..%2F{secret}",
        f"/{secret}",
        "/docs",
        "/openapi.json",
    ):
        assert "TOPSECRET" not in client.get(path).text, path
    body = {**QUESTION, "doc_ids": [str(secret)], "messages": [{"role": "user", "content": f"{secret}"}]}
    assert "TOPSECRET" not in client.post("/v1/chat/completions", json=body).text


def test_api_keys_come_from_settings_a_file_or_the_environment(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# team\nfile-key-1\n\nfile-key-2\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path, api_keys=("env-key",), api_keys_file=str(keys))
    assert read_api_keys(settings) == ("env-key", "file-key-1", "file-key-2")
    (tmp_path / "empty").write_text("# none\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds no key"):
        read_api_keys(Settings(data_dir=tmp_path), tmp_path / "empty")
    with pytest.raises(ConfigError, match="cannot read the API keys file"):
        read_api_keys(Settings(data_dir=tmp_path), tmp_path / "missing")


def test_a_non_loopback_bind_needs_keys_or_insecure(tmp_path, monkeypatch):
    assert check_bind("127.0.0.1", authenticated=False, insecure=False, how="x") is None
    assert check_bind("0.0.0.0", authenticated=True, insecure=False, how="x") is None
    assert "--insecure" in check_bind("0.0.0.0", authenticated=False, insecure=True, how="x")
    with pytest.raises(ConfigError, match="refusing to listen on 0.0.0.0 without authentication"):
        serve(Settings(data_dir=tmp_path), host="0.0.0.0", port=1)  # refused before anything starts
