"""Every command against a real Chroma server (`chroma run`), with the real embedding model:
ingest, docs, search, ask, delete, ingest --prune, doctor, eval, the API and the UI; and a
second instance (another data folder) that answers from the server without ingesting."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "corpus" / "sichuan"
CLUSTERS = "四川省成功创建了多少个省级现代服务业集聚区？"


@pytest.fixture(scope="module")
def served(chroma_url, tmp_path_factory):
    """RAG_* for this module: a Chroma server, a data folder, a copy of the corpus, ingested."""
    root = tmp_path_factory.mktemp("served")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    env = {
        "RAG_CHROMA_URL": chroma_url,
        "RAG_DATA_DIR": str(root / "data"),
        "RAG_COLLECTION": "cli-server",
        "RAG_CORPUS": str(corpus),
        "RAG_PROGRESS": "false",
    }
    patch = pytest.MonkeyPatch()
    patch.delenv("RAG_CONFIG", raising=False)
    for key, value in env.items():
        patch.setenv(key, value)
    assert main(["ingest"]) == 0
    yield {"env": env, "corpus": corpus, "root": root}
    patch.undo()


def _json(capsys, argv: list[str], status: int = 0):
    capsys.readouterr()
    assert main(argv) == status
    return json.loads(capsys.readouterr().out)


def test_docs_search_and_ask_come_from_the_server(served, capsys):
    docs = _json(capsys, ["docs", "--json"])
    assert len(docs) == 5
    found = _json(capsys, ["search", "--json", "--mode", "keyword", "武侯区产业园区高质量发展大会"])
    assert found["passages"][0]["doc_id"].startswith("002")
    answer = _json(capsys, ["ask", "--json", CLUSTERS])
    assert "49" in answer["answer"] and {c["doc_id"][:3] for c in answer["citations"]} == {"000"}
    assert not (served["root"] / "data" / "chroma").exists()  # nothing went to an embedded store


def test_a_second_instance_answers_from_the_server_without_ingesting(served, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= served["env"] | {"RAG_DATA_DIR": str(tmp_path / "elsewhere")}
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--json", CLUSTERS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert "49" in answer["answer"] and answer["citations"][0]["doc_id"].startswith("000")


def test_the_api_and_the_ui_serve_from_the_server(served):
    from fastapi.testclient import TestClient

    from rag.api import create_app
    from rag.pool import AssistantPool
    from rag.settings import load_settings
    from ui.serve import ServeOptions, build_server

    settings = load_settings()
    api = TestClient(create_app(AssistantPool(settings)))
    reply = api.post(
        "/v1/chat/completions",
        json={"model": "tianfu-rag", "messages": [{"role": "user", "content": CLUSTERS}]},
    )
    assert reply.status_code == 200, reply.text
    assert "49" in reply.json()["choices"][0]["message"]["content"]
    ui = TestClient(build_server(settings, ServeOptions(host="127.0.0.1", port=7860)))
    health = ui.get("/health")
    assert health.status_code == 200 and health.json()["documents"] == 5


def test_eval_runs_against_the_server(served, tmp_path, capsys):
    from rag.settings import load_settings
    from vectorstore.chroma_store import make_client

    assert main(["eval", "--limit", "2", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "summary.json").is_file()
    host, port, _ = load_settings().chroma_server
    names = {getattr(c, "name", c) for c in make_client(host=host, port=port).list_collections()}
    assert "eval-sichuan" in names and not (served["root"] / "data" / "chroma").exists()


def test_doctor_delete_and_prune_through_the_server(served, capsys):
    assert main(["doctor", str(served["corpus"])]) == 0
    docs = [d["doc_id"] for d in _json(capsys, ["docs", "--json"])]
    capsys.readouterr()
    assert main(["delete", docs[1]]) == 0
    assert docs[1] not in [d["doc_id"] for d in _json(capsys, ["docs", "--json"])]
    assert main(["delete", "no-such-document"]) == 1
    gone = next(served["corpus"].glob(f"{docs[2]}.*"))
    gone.unlink()
    assert main(["ingest", "--prune"]) == 0
    now = [d["doc_id"] for d in _json(capsys, ["docs", "--json"])]
    assert docs[2] not in now and docs[1] in now and len(now) == 4
    assert main(["doctor", str(served["corpus"])]) == 0
