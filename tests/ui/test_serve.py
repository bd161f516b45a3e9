"""Serving: options and credentials, /health, and the app's API through gradio_client."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from rag.errors import ConfigError
from rag.settings import PROJECT_ROOT, Settings
from ui.serve import ServeOptions, health, options_from_args, parse_credential, read_auth_file


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_gradio_is_loaded_only_by_the_ui_package():
    code = (
        "import sys, cli.main, rag.pipeline, rag.commands\n"
        "cli.main._parser().parse_args(['serve', '--port', '1'])\n"
        "assert 'gradio' not in sys.modules, 'gradio was imported'\n"
        "import ui.app\n"
        "assert 'gradio' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_serve_binds_loopback_by_default_and_reads_its_flags(tmp_path):
    settings = Settings(data_dir=tmp_path)
    defaults = options_from_args(argparse.Namespace(), settings)
    assert (defaults.host, defaults.port, defaults.auth, defaults.loopback) == ("127.0.0.1", 7860, (), True)
    auth_file = tmp_path / "users"
    auth_file.write_text("# team\nalice:s3cret:with:colons\n\nbob:pw\n", encoding="utf-8")
    args = argparse.Namespace(host="0.0.0.0", port=9000, auth=None, auth_file=auth_file)
    options = options_from_args(args, settings)
    assert options.auth == (("alice", "s3cret:with:colons"), ("bob", "pw")) and not options.loopback
    assert parse_credential("u:p") == ("u", "p")


@pytest.mark.parametrize("bad", ["nopassword", ":p", "u:"])
def test_bad_credentials_are_one_line_errors(bad, tmp_path):
    with pytest.raises(ConfigError, match="expected USER:PASSWORD"):
        parse_credential(bad)
    empty = tmp_path / "empty"
    empty.write_text("# nobody\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds no USER:PASSWORD"):
        read_auth_file(empty)
    with pytest.raises(ConfigError, match="cannot read the auth file"):
        read_auth_file(tmp_path / "missing")
    with pytest.raises(ValueError, match="port must be between 1 and 65535; got 0"):
        ServeOptions("127.0.0.1", 0)


def test_cli_parses_serve_with_its_collection(monkeypatch):
    from cli.main import _parser

    args = _parser().parse_args(["serve", "--port", "7999", "--auth", "a:b", "--collection", "other"])
    assert (args.command, args.port, args.auth, args.collection) == ("serve", 7999, "a:b", "other")
    assert _parser().parse_args(["--collection", "kb2", "serve"]).collection == "kb2"


def test_health_reports_documents_or_the_error(corpus_pool, make_pool):
    assert health(corpus_pool) == (
        200,
        {"status": "ok", "collection": corpus_pool.default_collection, "documents": 5},
    )

    class Broken:
        default_collection = "kb"

        def get(self, name):
            raise ConfigError("cannot reach the Chroma server")

    status, body = health(Broken())  # type: ignore[arg-type]
    assert status == 503 and body["status"] == "error" and "Chroma" in body["error"]


def test_api_answers_with_sources_and_health_through_the_served_app(corpus_pool, serve):
    from gradio_client import Client

    with serve(corpus_pool.settings, corpus_pool) as url:
        status, body = get_json(url + "health")
        assert status == 200 and body == {
            "status": "ok",
            "collection": corpus_pool.default_collection,
            "documents": 5,
        }
        client = Client(url, verbose=False, download_files=False)
        collection = corpus_pool.default_collection
        answer, sources = client.predict(
            "四川省成功创建了多少个省级现代服务业集聚区？", collection, 5, "hybrid", [], api_name="/ask"
        )
        assert "49" in answer and "#cite-1-1" in answer
        assert 'data-doc-id="000_' in sources and "cited-span" in sources


def test_api_reports_an_empty_knowledge_base_as_a_message(make_pool, serve):
    from gradio_client import Client

    pool = make_pool()
    with serve(pool.settings, pool) as url:
        client = Client(url, verbose=False, download_files=False)
        answer, _ = client.predict("有多少？", pool.default_collection, 5, "hybrid", [], api_name="/ask")
        assert "还是空的" in answer and "msg-error" in answer and "Traceback" not in answer


def test_api_upload_then_ask_shows_document_html_as_text(make_pool, tmp_path, serve):
    from gradio_client import Client, handle_file

    pool = make_pool()
    nasty = tmp_path / "999_xss.txt"
    nasty.write_text(
        "网页转义检查\n\n<script>alert(1)</script>熊猫繁育研究基地的门票价格是55元。\n", encoding="utf-8"
    )
    with serve(pool.settings, pool) as url:
        client = Client(url, verbose=False, download_files=False)
        collection = pool.default_collection
        result = client.predict([handle_file(str(nasty))], collection, False, api_name="/upload")
        assert any("1/1" in str(r) for r in result)
        _, sources = client.predict(
            "熊猫繁育研究基地的门票价格是多少？", collection, 5, "hybrid", [], api_name="/ask"
        )
    assert 'data-doc-id="999_xss"' in sources
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sources and "<script" not in sources


def test_auth_guards_the_app_but_not_health(make_pool, serve):
    from gradio_client import Client

    pool = make_pool()
    with serve(pool.settings, pool, auth=(("alice", "s3cret"),)) as url:
        assert get_json(url + "health")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url + "config", timeout=30)
        assert denied.value.code == 401
        with pytest.raises(Exception, match="(?i)login|credentials|auth"):
            Client(url, auth=("alice", "wrong"), verbose=False)
        client = Client(url, auth=("alice", "s3cret"), verbose=False, download_files=False)
        assert client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]
