"""Follow-up questions become standalone questions: by rules, or through the LLM's condense step."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from rag.followup import LLMRewriter, RuleRewriter, make_rewriter, needs_context
from rag.generate.extractive import ExtractiveGenerator
from rag.generate.llm import LLMGenerator
from rag.pipeline import Assistant
from rag.types import Turn

CLUSTERS_ZH = "四川省已成功创建多少个省级现代服务业集聚区？"


def rewrite(question: str, *previous: str) -> str:
    return RuleRewriter().rewrite(question, [Turn(q, "…") for q in previous])


@pytest.mark.parametrize(
    ("question", "previous", "standalone"),
    [
        ("那成都呢？", CLUSTERS_ZH, "成都已成功创建多少个省级现代服务业集聚区？"),
        (
            "and Chengdu's?",
            "What is Sichuan's target for the service industry?",
            "What is Chengdu's target for the service industry?",
        ),
        (
            "What about Chengdu?",
            "How many clusters has Sichuan established?",
            "How many clusters has Chengdu established?",
        ),
        (
            "它的目标年份呢？",
            "成都市生活性服务业发展意见的主要目标是什么？",
            "成都市生活性服务业发展意见的目标年份呢？",
        ),
        (
            "What is its target year?",
            "What are the goals of Chengdu's life service industry opinion?",
            "What is Chengdu's life service industry opinion's target year?",
        ),
        (
            "那2025年呢？",
            "成都提出到2022年生活性服务业增加值要达到多少？",
            "成都提出到2025年生活性服务业增加值要达到多少？",
        ),
        ("其文号是什么？", "四川省表扬集聚区的通报是哪天发布的？", "四川省表扬集聚区的文号是什么？"),
    ],
)
def test_rules_resolve_follow_ups(question, previous, standalone):
    assert rewrite(question, previous) == standalone


def test_rules_resolve_a_chain_of_follow_ups_turn_by_turn():
    assert rewrite("那绵阳呢？", CLUSTERS_ZH, "那成都呢？") == "绵阳已成功创建多少个省级现代服务业集聚区？"


def test_a_standalone_question_is_left_alone():
    question = "武侯区产业园区高质量发展大会是哪天召开的？"
    assert not needs_context(question)
    assert rewrite(question, CLUSTERS_ZH) == question
    assert rewrite("How many clusters has Sichuan established?", "What is the date?") == (
        "How many clusters has Sichuan established?"
    )


def test_without_a_topic_the_previous_question_is_attached():
    assert rewrite("What about it?", "Tell me everything") == "What about it (Tell me everything)?"


def test_llm_condenses_with_the_conversation_in_the_prompt():
    model = GenericFakeChatModel(messages=iter(["独立问题：“成都已成功创建多少个省级现代服务业集聚区？”\n"]))
    rewriter = LLMRewriter(model)
    history = [Turn(CLUSTERS_ZH, "四川省成功创建49个省级现代服务业集聚区[1]。")]
    system, user = rewriter.messages("那成都呢？", history)
    assert "独立问题" in system.text and CLUSTERS_ZH in user.text and "49个" in user.text
    assert user.text.rstrip().endswith("独立问题：") and "那成都呢？" in user.text
    assert rewriter.rewrite("那成都呢？", history) == "成都已成功创建多少个省级现代服务业集聚区？"


def test_an_unusable_llm_reply_falls_back_to_the_rules():
    rewriter = LLMRewriter(GenericFakeChatModel(messages=iter(["\n"])))
    assert (
        rewriter.rewrite("那成都呢？", [Turn(CLUSTERS_ZH, "…")])
        == "成都已成功创建多少个省级现代服务业集聚区？"
    )


def test_the_rewriter_follows_the_generator(hash_embedder, lexical_evidence):
    extractive = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    assert isinstance(make_rewriter(extractive), RuleRewriter)
    assert isinstance(make_rewriter(LLMGenerator(GenericFakeChatModel(messages=iter([])))), LLMRewriter)


@pytest.fixture
def assistant(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return Assistant(kb.settings, kb=kb)


def test_assistant_answers_a_follow_up_from_the_standalone_question(assistant):
    first = assistant.ask("武侯区产业园区高质量发展大会是哪天召开的？")
    follow = assistant.ask("那四川省呢？", history=[Turn(first.question, first.text)])
    assert follow.question == "那四川省呢？"
    assert follow.rewritten_question == "四川省产业园区高质量发展大会是哪天召开的？"
    again = assistant.ask("那成都呢？", history=[Turn(CLUSTERS_ZH, "…")])
    assert again.rewritten_question == "成都已成功创建多少个省级现代服务业集聚区？"
    plain = assistant.ask(CLUSTERS_ZH, history=[Turn("别的问题？", "…")])
    assert plain.rewritten_question is None and "rewrite" in plain.timings


def test_qizhong_narrows_the_previous_question_instead_of_replacing_its_subject():
    previous = [Turn("四川省已建成多少个省级现代服务业集聚区？", "49个")]
    rewritten = RuleRewriter().rewrite("其中哪些受到了通报表扬？", previous)
    assert rewritten.startswith("其中哪些受到了通报表扬")
    assert "四川省已建成多少个省级现代服务业集聚区" in rewritten
