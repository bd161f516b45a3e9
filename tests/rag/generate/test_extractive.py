"""The extractive generator with the hash embedder over the real corpus (in-memory Chroma)."""

import pytest

from rag.generate.extractive import ExtractiveGenerator
from rag.retrieve import Retriever


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


def ask(kb, question, k=5):
    passages = Retriever(kb).retrieve(question, k=k).passages
    return ExtractiveGenerator(embedder=kb.embedder, idf=kb.keyword.idf).generate(question, passages)


def test_answer_quotes_the_sentence_with_markers_and_exact_spans(kb):
    answer = ask(kb, "四川省成功创建了多少个省级现代服务业集聚区？")
    assert not answer.abstained and answer.language == "zh-Hans"
    assert "49个省级现代服务业集聚区" in answer.text
    assert "[1]" in answer.text
    for citation in answer.citations:
        assert citation.passage[citation.span_start : citation.span_end] == citation.span
        assert citation.span in answer.text
        assert citation.doc_end - citation.doc_start == len(citation.span)


def test_bilingual_pair_answers_in_the_question_language(kb):
    english = ask(kb, "How many provincial modern service industry clusters has Sichuan established?")
    assert "49 provincial modern service industry clusters" in english.text
    assert not any("集聚区" in c.span for c in english.citations)


def test_traditional_question_cites_the_traditional_document(kb):
    answer = ask(kb, "武侯區產業園區高質量發展大會是哪天召開的？")
    assert {c.doc_id[:3] for c in answer.citations} == {"002"}


def test_question_about_something_absent_abstains_with_closest_passages(kb):
    answer = ask(kb, "上海自贸区的负面清单有多少条？")
    assert answer.abstained and not answer.citations
    assert answer.text.startswith("文档中没有")
    english = ask(kb, "What is the population of Tibet?")
    assert english.abstained and english.text.startswith("The documents do not say")


def test_no_passages_means_an_empty_knowledge_base_message(hash_embedder):
    generator = ExtractiveGenerator(embedder=hash_embedder, idf=lambda t: 1.0)
    answer = generator.generate("任何问题？", [])
    assert answer.abstained and "rag ingest" in answer.text


def test_options_are_validated():
    with pytest.raises(ValueError, match="got 0"):
        ExtractiveGenerator(embedder=None, idf=len, max_sentences=0)


def test_a_sentence_repeated_within_a_document_is_quoted_once(hash_embedder):
    from rag.types import Passage

    lead = "中新網四川新聞11月16日電 武侯區產業園區高質量發展大會15日召開。"
    caption = "武侯區產業園區高質量發展大會15日召開。武侯區委宣傳部供圖"
    passages = [
        Passage(chunk_id=f"002:{i}", doc_id="002", text=text, start=0, end=len(text))
        for i, text in enumerate([lead, caption])
    ]
    generator = ExtractiveGenerator(embedder=hash_embedder, idf=lambda t: 1.0)
    answer = generator.generate("武侯區產業園區高質量發展大會是哪天召開的？", passages)
    spans = [c.span for c in answer.citations]
    assert len(spans) == 1 and "15日召開" in spans[0]
