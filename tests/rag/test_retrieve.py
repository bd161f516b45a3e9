import pytest

from rag.retrieve import Retriever


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_simplified_question_finds_traditional_passages(kb, mode):
    passages = Retriever(kb).retrieve("武侯区产业园区高质量发展大会", k=3, mode=mode).passages
    assert passages[0].doc_id.startswith("002")


def test_traditional_question_finds_simplified_passages(kb):
    passages = Retriever(kb).retrieve("雙城經濟圈建設領導小組第五次會議", k=3, mode="keyword").passages
    assert passages[0].doc_id.startswith("003")


def test_english_question_reaches_a_chinese_only_document_through_the_glossary(kb):
    passages = (
        Retriever(kb).retrieve("Wuhou District industrial park conference", k=3, mode="keyword").passages
    )
    assert passages[0].doc_id.startswith("002")


def test_hybrid_passages_carry_ranks_scores_and_document_facts(kb):
    result = Retriever(kb).retrieve("成都生活性服务业增加值", k=5)
    assert len(result.passages) == 5
    assert [p.score for p in result.passages] == sorted((p.score for p in result.passages), reverse=True)
    top = result.passages[0]
    assert top.title and top.date and top.doc_id.startswith("004")
    assert top.dense_rank is not None or top.keyword_rank is not None
    assert {"embed_query", "dense", "keyword", "fuse"} <= set(result.timings)


def test_document_filter_applies_to_both_retrievers(kb):
    doc = next(d.doc_id for d in kb.documents() if d.doc_id.startswith("001"))
    passages = Retriever(kb).retrieve("服务业集聚区", k=5, doc_ids={doc}).passages
    assert passages and {p.doc_id for p in passages} == {doc}


def test_invalid_options_say_what_was_given(kb):
    with pytest.raises(ValueError, match="'fuzzy'"):
        Retriever(kb, mode="fuzzy")
    with pytest.raises(ValueError, match="got 0"):
        Retriever(kb).retrieve("x", k=0)
