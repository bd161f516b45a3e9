"""Filters on document metadata: parsing, the Chroma clause, and (on the bundled corpus) that a
filtered question never gets an out-of-filter passage, in every retrieval mode, with the top-k
filled from inside the filter (not cut first and filtered after)."""

from __future__ import annotations

import pytest

from rag.filters import Filter, filter_from_args, filter_from_request, make_filter
from rag.retrieve import Retriever

OFFICE = "四川省人民政府办公厅"


def test_conditions_and_dates_make_one_filter():
    built = make_filter(where=["issuer=" + OFFICE, "类型=通知|通报"], since="2020", until="2021-02")
    assert built.equals == (("doc_type", ("通知", "通报")), ("issuer", (OFFICE,)))
    assert (built.since, built.until) == ("2020-01-01", "2021-02-28")
    assert built.chroma_where() == {
        "$and": [
            {"doc_type": {"$in": ["通知", "通报"]}},
            {"issuer": OFFICE},
            {"date_num": {"$gte": 20200101}},
            {"date_num": {"$lte": 20210228}},
        ]
    }
    assert make_filter(where=["doc=a; number=川办函〔2020〕31号"]).chroma_where() == {
        "$and": [{"doc_id": "a"}, {"doc_number": "川办函〔2020〕31号"}]
    }
    assert make_filter().empty and make_filter().chroma_where() is None


@pytest.mark.parametrize(
    ("where", "since", "until", "message"),
    [
        (["publisher=x"], None, None, "'publisher=x'"),
        (["issuer"], None, None, "'issuer'"),
        (["issuer="], None, None, "needs a value"),
        ((), "yesterday", None, "'yesterday'"),
        ((), "2020-13-01", None, "'2020-13-01'"),
        ((), "2021", "2020", "after --until '2020'"),
    ],
)
def test_a_bad_filter_is_a_value_error_naming_it(where, since, until, message):
    with pytest.raises(ValueError, match=message):
        make_filter(where=where, since=since, until=until)


def test_the_api_field_takes_an_object_of_texts():
    built = filter_from_request({"issuer": OFFICE, "type": ["通知", "通报"], "since": "2020-06"})
    assert built == make_filter(where=[f"issuer={OFFICE}", "type=通知|通报"], since="2020-06")
    assert filter_from_request(None) is None and filter_from_request({}) is None
    for bad in ("issuer=x", {"issuer": 3}, {"since": 2020}):
        with pytest.raises(ValueError):
            filter_from_request(bad)


def test_the_cli_options_parse_into_a_filter():
    from cli.main import _parser

    args = _parser().parse_args(["search", "q", "--where", f"issuer={OFFICE}", "--since", "2020-01-01"])
    assert filter_from_args(args) == make_filter(where=[f"issuer={OFFICE}"], since="2020-01-01")
    assert filter_from_args(_parser().parse_args(["ask", "q"])) is None


def test_matches_agrees_with_the_clause_on_missing_dates():
    built = make_filter(since="2020")
    assert built.matches({"date_num": 20200101}) and not built.matches({"date_num": 20191231})
    assert not built.matches({})  # a date filter leaves out undated documents
    assert Filter().matches({})


# --- inside retrieval, on the bundled corpus ------------------------------------------------------

QUESTIONS = (
    "四川省成功创建了多少个省级现代服务业集聚区？",
    "成渝地区双城经济圈建设",
    "生活性服务业",
    "How long are Chengdu's greenways?",
)
FILTERS = (
    make_filter(where=[f"issuer={OFFICE}"]),
    make_filter(where=["type=新闻"]),
    make_filter(where=["region=成都市|四川省"]),
    make_filter(since="2023-01-01"),
    make_filter(until="2020-12-31"),
    make_filter(where=["type=新闻"], since="2023-06", until="2024-12-31"),
    make_filter(where=["number=川办函〔2020〕31号"]),
    make_filter(where=["doc=004_8ac6a6207ac107a0"]),
)


@pytest.fixture(scope="module")
def corpus_kb(tmp_path_factory, hash_embedder_class):
    import shutil

    from rag.index import KnowledgeBase
    from rag.settings import BUNDLED_CORPUS, Settings
    from vectorstore.chroma_store import make_client

    corpus = tmp_path_factory.mktemp("corpus")
    for path in BUNDLED_CORPUS.iterdir():
        shutil.copy(path, corpus / path.name)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), collection="filters", progress=False)
    kb = KnowledgeBase(settings=settings, embedder=hash_embedder_class(), client=make_client())
    kb.ingest([corpus])
    return kb


def _meta(kb, passages):
    return [r.metadata for r in kb.store.get([p.chunk_id for p in passages])]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_a_filtered_question_never_returns_an_out_of_filter_passage(corpus_kb, mode):
    retriever = Retriever(corpus_kb)
    inside: dict[str, list] = {}
    for where in FILTERS:
        allowed = {r.metadata["doc_id"] for r in corpus_kb.store.all_metadata() if where.matches(r.metadata)}
        assert allowed, where.description  # every filter here matches some document
        for question in QUESTIONS:
            passages = retriever.retrieve(question, k=5, mode=mode, where=where).passages
            assert all(where.matches(m) for m in _meta(corpus_kb, passages)), (where.description, question)
            assert {p.doc_id for p in passages} <= allowed
            inside.setdefault(where.description, []).extend(passages)
        assert inside[where.description], f"{where.description}: nothing found inside the filter"


def test_the_top_k_is_filled_from_inside_the_filter(corpus_kb):
    where = make_filter(where=["doc=004_8ac6a6207ac107a0"])
    passages = (
        Retriever(corpus_kb).retrieve("四川省现代服务业集聚区", k=5, mode="hybrid", where=where).passages
    )
    assert len(passages) == 5 and {p.doc_id for p in passages} == {"004_8ac6a6207ac107a0"}


def test_a_filter_nothing_matches_returns_nothing(corpus_kb):
    where = make_filter(where=["issuer=不存在的机关"])
    assert Retriever(corpus_kb).retrieve("集聚区", k=5, where=where).passages == []


def test_ask_and_the_api_take_the_filter(corpus_kb):
    from fastapi.testclient import TestClient

    from rag.api import create_app
    from rag.pipeline import Assistant
    from rag.pool import AssistantPool

    assistant = Assistant(corpus_kb.settings, kb=corpus_kb)
    where = make_filter(where=["type=新闻"])
    answer = assistant.ask("四川省成功创建了多少个省级现代服务业集聚区？", where=where)
    assert all(where.matches(m) for m in _meta(corpus_kb, answer.passages))
    client = TestClient(create_app(AssistantPool.serving(assistant)))
    body = {
        "model": "tianfu-rag",
        "messages": [{"role": "user", "content": "成渝地区双城经济圈建设"}],
        "filter": {"type": "新闻", "since": "2023"},
    }
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    for citation in response.json().get("citations", []):
        assert citation["doc_id"] in {"001_d78cfde9ab7cdbce", "002_6d643657cc6bd2cc", "003_d16aa114267aa042"}
    body["filter"] = {"since": "soon"}
    assert client.post("/v1/chat/completions", json=body).status_code == 400
