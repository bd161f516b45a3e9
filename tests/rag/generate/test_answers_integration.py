"""The trained evidence model with the real embedding model on the bundled corpus: direct answers,
and the refusals issue 9 asks for (a follow-up whose subject the evidence lacks; a term absent
from the corpus)."""

from __future__ import annotations

import pytest

from rag.pipeline import Assistant
from rag.settings import load_settings
from rag.types import Turn

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def assistant(ingested):
    return Assistant.from_settings(
        load_settings(env={"RAG_DATA_DIR": str(ingested), "RAG_PROGRESS": "false"})
    )


def test_the_answer_leads_with_the_figure_and_highlights_it(assistant):
    answer = assistant.ask("四川省一共成功创建了多少个省级现代服务业集聚区？")
    assert not answer.abstained
    assert answer.text.startswith("**49")
    assert {c.doc_id[:3] for c in answer.citations} == {"000"}
    assert any("49" in h for c in answer.citations for h in c.highlighted)
    assert answer.answerability is not None and answer.answerability >= assistant.evidence.abstain_below


def test_a_follow_up_whose_subject_the_evidence_lacks_is_refused(assistant):
    first = "四川省一共成功创建了多少个省级现代服务业集聚区？"
    previous = assistant.ask(first)
    answer = assistant.ask("那成都呢？", history=[Turn(first, previous.text)])
    assert answer.rewritten_question is not None and "成都" in answer.rewritten_question
    assert answer.abstained and not answer.citations
    assert "49" not in answer.text.split("最接近的段落")[0]


def test_a_key_term_absent_from_the_corpus_is_refused(assistant):
    answer = assistant.ask("成都要建设多少个国际化社区？")
    assert answer.abstained and not answer.citations


def test_a_greeting_is_not_answered_with_a_passage(assistant):
    answer = assistant.ask("hi")
    assert answer.abstained and not answer.citations


def test_an_english_question_over_chinese_only_text_says_so(assistant):
    answer = assistant.ask(
        "On what date was the Wuhou District industrial park high-quality development conference held?"
    )
    assert not answer.abstained
    assert (
        "the documents state this in Chinese:" in answer.text.lower()
        or "state this in chinese" in answer.text.lower()
    )
    assert {c.doc_id[:3] for c in answer.citations} == {"002"}


def test_a_list_question_quotes_every_item_even_across_chunks(assistant):
    answer = assistant.ask("成都规划的三大休闲游憩带分别是什么？")
    assert not answer.abstained
    for item in ("龙门山", "龙泉山", "天府绿道"):
        assert item in answer.text
    for citation in answer.citations:
        assert citation.passage[citation.span_start : citation.span_end] == citation.span


def test_a_question_about_the_document_itself_quotes_its_header(assistant):
    answer = assistant.ask("这份表扬现代服务业集聚区的通报是哪天印发的？")
    assert not answer.abstained
    assert answer.text.startswith("**2020-06-01**")
    assert answer.citations[0].highlighted == ["2020-06-01"]
