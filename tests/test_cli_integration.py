"""The real thing: packaged embedding model, on-disk Chroma, the bundled corpus, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def rag_env(real_env):
    """The shared data directory of tests/conftest.py (one model build, one ingest)."""


def ask_json(capsys, question: str) -> dict:
    capsys.readouterr()
    assert main(["ask", "--json", question]) == 0
    return json.loads(capsys.readouterr().out)


def cited_docs(answer: dict) -> set[str]:
    return {c["doc_id"][:3] for c in answer["citations"]}


def test_english_question_cites_document_000_and_says_49(ingested, capsys):
    answer = ask_json(capsys, "How many provincial modern service industry clusters has Sichuan established?")
    assert not answer["abstained"]
    assert "000" in cited_docs(answer)
    assert "49" in answer["answer"]
    assert answer["passages"] and all("text" in p and "score" in p for p in answer["passages"])
    citation = answer["citations"][0]
    assert citation["span"] in citation["passage"]


def test_simplified_chinese_question_cites_document_000(ingested, capsys):
    answer = ask_json(capsys, "四川省成功创建了多少个省级现代服务业集聚区？")
    assert cited_docs(answer) == {"000"}
    assert "49" in answer["answer"]


def test_traditional_chinese_question_cites_document_002(ingested, capsys):
    answer = ask_json(capsys, "武侯區產業園區高質量發展大會是哪天召開的？")
    assert cited_docs(answer) == {"002"}
    assert "15日" in answer["answer"]


def test_english_question_finds_a_chinese_only_document(ingested, capsys):
    answer = ask_json(capsys, "How much value added should Chengdu's life service industry reach?")
    assert not answer["abstained"]
    assert cited_docs(answer) == {"004"}
    for citation in answer["citations"]:
        assert citation["span"] in citation["passage"]


def test_simplified_spelling_finds_traditional_text(ingested, capsys):
    capsys.readouterr()
    assert main(["search", "--json", "--mode", "keyword", "武侯区产业园区高质量发展大会"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages[0]["doc_id"].startswith("002")


def test_question_outside_the_documents_abstains(ingested, capsys):
    answer = ask_json(capsys, "上海自贸区的负面清单有多少条？")
    assert answer["abstained"]
    assert answer["answer"].startswith("文档中没有")
    assert answer["citations"] == [] and answer["passages"]


def test_document_filter_restricts_retrieval(ingested, capsys):
    capsys.readouterr()
    docs = json.loads((main(["docs", "--json"]), capsys.readouterr().out)[1])
    target = next(d["doc_id"] for d in docs if d["doc_id"].startswith("003"))
    assert main(["search", "--json", "--doc", target, "集聚区"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages and {p["doc_id"] for p in passages} == {target}


def test_docs_lists_the_five_documents_with_metadata(ingested, capsys):
    capsys.readouterr()
    assert main(["docs", "--json"]) == 0
    docs = {d["doc_id"][:3]: d for d in json.loads(capsys.readouterr().out)}
    assert sorted(docs) == ["000", "001", "002", "003", "004"]
    assert docs["000"]["doc_number"] == "川办函〔2020〕31号"
    assert docs["000"]["date"] == "2020-06-01"


def test_reingesting_the_unchanged_corpus_writes_nothing(ingested, capsys):
    capsys.readouterr()
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert "added 0, updated 0, unchanged 5, removed 0" in out
    assert "wrote 0 chunks" in out


def test_cli_errors_are_one_line_without_traceback(ingested, tmp_path):
    env = {**os.environ, "RAG_DATA_DIR": str(ingested), "RAG_RETRIEVAL_MODE": "fuzzy"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "anything"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("rag: error: retrieval_mode must be one of")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - started < 120


def test_an_unknown_document_is_an_error_not_an_empty_answer(ingested, capsys):
    capsys.readouterr()
    assert main(["ask", "--doc", "nope", "集聚区有多少个？"]) == 1
    assert "no such document in knowledge base 'sichuan': nope" in capsys.readouterr().err


def test_ask_reads_a_piped_question(ingested, data_dir):
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "RAG_PROGRESS": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--json"],
        input="四川省成功创建了多少个省级现代服务业集聚区？\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "49" in json.loads(result.stdout)["answer"]


def test_ingesting_a_fifo_does_not_hang(ingested, tmp_path, capsys):
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    capsys.readouterr()
    assert main(["ingest", str(fifo)]) == 1
    assert "not a regular file" in capsys.readouterr().out
