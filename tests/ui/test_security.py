"""The served UI (FastAPI + mounted gradio, real HTTP on loopback) reads no file of the server:
a FileData naming a server file is refused by gradio and by our upload handler, file= routes
serve nothing outside gradio's folders; logins are throttled; bodies are capped; no
non-loopback bind without a login."""

from __future__ import annotations

import argparse
import json

import httpx
import pytest

from rag.errors import ConfigError
from ui import knowledge
from ui.app import build
from ui.serve import run_serve

SECRET = "TOPSECRET-UI-51c2"


@pytest.fixture
def secret(tmp_path):
    """A server file gradio would have served by default (it is under the system temp folder)."""
    path = tmp_path / "server-secret.txt"
    path.write_text(f"服务器上的机密文件。{SECRET} 密码是 hunter2。\n", encoding="utf-8")
    return path


def call(url: str, api: str, data: list) -> str:
    """POST /gradio_api/call/<api> then read its event stream: the raw text of the result."""
    with httpx.Client(base_url=url, timeout=60) as client:
        started = client.post(f"gradio_api/call/{api}", json={"data": data})
        if started.status_code != 200:
            return started.text
        event = started.json()["event_id"]
        return client.get(f"gradio_api/call/{api}/{event}").text


@pytest.mark.parametrize("layer", ["both", "gradio alone"])
def test_a_filedata_naming_a_server_file_is_not_ingested(make_pool, serve, secret, monkeypatch, layer):
    if layer == "gradio alone":  # our own folder check off: gradio's check must be active by itself
        monkeypatch.setattr("ui.kb_handlers.upload_folder", lambda: __import__("pathlib").Path("/"))
    pool = make_pool()
    collection = pool.default_collection
    with serve(pool.settings, pool) as url:
        forged = [{"path": str(secret), "orig_name": "notice.txt", "meta": {"_type": "gradio.FileData"}}]
        result = call(url, "upload", [forged, collection, False])
        assert (
            "event: error" in result
            if layer == "gradio alone"
            else ("event: error" in result or "refused" in result)
        )
        assert SECRET not in result
        answer = call(url, "ask", ["服务器上的机密文件密码是什么？", collection, 5, "hybrid", []])
    assert SECRET not in answer
    assert pool.get(collection).kb.documents() == []


def test_our_upload_handler_refuses_paths_outside_the_upload_folder(make_pool, secret):
    pool = make_pool()
    report = knowledge.upload_files(
        pool, pool.default_collection, [(secret, "notice.txt")], uploaded_to=secret.parent / "uploads"
    )
    assert not report.outcomes[0].ok and "refused: not an uploaded file" in report.outcomes[0].message
    app = build(pool.settings, pool=pool)
    outputs = app.knowledge.upload(
        [{"path": str(secret), "orig_name": "notice.txt"}], pool.default_collection, False
    )
    assert "refused: not an uploaded file" in outputs[app.knowledge.kb["message"]]
    assert pool.get(pool.default_collection).kb.documents() == []


def test_file_routes_serve_no_server_file(make_pool, serve, secret):
    pool = make_pool()
    with serve(pool.settings, pool) as url, httpx.Client(base_url=url, timeout=30) as client:
        keyword_file = pool.settings.data_dir / "keyword" / "x.json"
        keyword_file.parent.mkdir(parents=True, exist_ok=True)
        keyword_file.write_text(SECRET, encoding="utf-8")
        for target in (secret, keyword_file, "/etc/passwd"):
            for route in (
                "gradio_api/file={}",
                "file={}",
                "gradio_api/file=..%2F..{}",
                "static/..%2F..%2F..{}",
            ):
                response = client.get(route.format(target))
                assert SECRET not in response.text and "root:" not in response.text, route
                assert response.status_code in (403, 404), (route, response.status_code)


def test_failed_logins_are_throttled(make_pool, serve):
    pool = make_pool(login_max_failures=3)
    with serve(pool.settings, pool, auth=(("alice", "s3cret"),)) as url, httpx.Client(base_url=url) as client:
        codes = [
            client.post("login", data={"username": "alice", "password": f"guess{i}"}).status_code
            for i in range(3)
        ]
        assert codes == [400, 400, 400]
        blocked = client.post("login", data={"username": "alice", "password": "s3cret"})
        assert blocked.status_code == 429 and "too many failed logins" in blocked.text
        assert int(blocked.headers["retry-after"]) >= 1


def test_request_bodies_are_capped_but_uploads_have_their_own_limit(make_pool, serve, tmp_path):
    from gradio_client import Client, handle_file

    pool = make_pool(max_request_kb=16)
    with serve(pool.settings, pool) as url:
        big = json.dumps({"data": ["问" * 20_000, None, pool.default_collection, 5, "hybrid", []]})
        response = httpx.post(
            url + "gradio_api/call/ask", content=big, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413 and "max_request_kb" in response.text
        doc = tmp_path / "panda.txt"
        doc.write_text(
            "熊猫基地介绍。" + "大熊猫繁育研究基地位于成都市北郊。" * 2000, encoding="utf-8"
        )  # ~100 KB
        result = Client(url, verbose=False).predict(
            [handle_file(str(doc))], pool.default_collection, api_name="/upload"
        )
        assert "1/1" in result[0]


def test_serve_refuses_a_public_address_without_login(tmp_path):
    from rag.settings import Settings

    args = argparse.Namespace(host="0.0.0.0", port=7999, auth=None, auth_file=None, insecure=False)
    with pytest.raises(ConfigError, match="refusing to listen on 0.0.0.0 without authentication.*--auth"):
        run_serve(args, Settings(data_dir=tmp_path))
