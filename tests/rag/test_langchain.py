"""The retriever and the assistant inside real LCEL chains, with LangChain's fake chat models."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel, ParrotFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from rag.generate.llm import LLMGenerator
from rag.langchain import AssistantRunnable, KnowledgeBaseRetriever, citation_document, to_turns
from rag.pipeline import Assistant
from rag.types import Answer, Turn

QUESTION = "四川省已成功创建多少个省级现代服务业集聚区？"


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


def test_the_retriever_returns_documents_with_citation_metadata(kb):
    retriever = KnowledgeBaseRetriever(assistant=Assistant(kb.settings, kb=kb), k=3)
    docs = retriever.invoke(QUESTION)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert "49" in top.page_content and top.id == top.metadata["chunk_id"]
    assert top.metadata["doc_id"].startswith("000_") and top.metadata["title"]
    assert top.metadata["date"] == "2020-06-01" and "section" in top.metadata
    assert 0 <= top.metadata["start"] < top.metadata["end"]
    assert top.metadata["source"].endswith(".txt") or top.metadata["source"].endswith(".html")
    only = retriever.invoke(QUESTION, doc_ids=["004_8ac6a6207ac107a0"], k=2)
    assert len(only) == 2 and {d.metadata["doc_id"] for d in only} == {"004_8ac6a6207ac107a0"}
    keyword = KnowledgeBaseRetriever(assistant=retriever.assistant, mode="keyword", k=1)
    assert len(keyword.invoke(QUESTION)) == 1
    from rag.filters import make_filter

    news = KnowledgeBaseRetriever(assistant=retriever.assistant, k=4, where=make_filter(where=["type=新闻"]))
    assert {d.metadata["doc_id"][:3] for d in news.invoke(QUESTION)} <= {"001", "002", "003"}
    dated = retriever.invoke(QUESTION, where=make_filter(until="2019"))
    assert dated and {d.metadata["doc_id"] for d in dated} == {"004_8ac6a6207ac107a0"}
    with pytest.raises(ValueError, match="mode must be one of"):
        KnowledgeBaseRetriever(assistant=retriever.assistant, mode="fuzzy")


def test_the_retriever_in_an_lcel_chain_feeds_the_passages_to_a_chat_model(kb):
    retriever = KnowledgeBaseRetriever(assistant=Assistant(kb.settings, kb=kb), k=2)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context."), ("human", "Context:\n{context}\n\nQuestion: {question}")]
    )

    def format_docs(docs: list[Document]) -> str:
        return "\n\n".join(f"[{d.metadata['chunk_id']}] {d.page_content}" for d in docs)

    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | ParrotFakeChatModel()  # replies with the last message it got: the filled-in prompt
        | StrOutputParser()
    )
    echoed = chain.invoke(QUESTION)
    top = retriever.invoke(QUESTION)[0]
    assert f"[{top.metadata['chunk_id']}] {top.page_content}" in echoed and echoed.endswith(QUESTION)
    assert len(chain.batch([QUESTION, "成都生活性服务业增加值目标是多少？"])) == 2


def test_the_assistant_runnable_answers_with_citations_in_a_chain(kb):
    passage = "四川省成功创建49个省级现代服务业集聚区"
    model = FakeListChatModel(responses=[f"{passage}[1]。"])
    assistant = Assistant(kb.settings, kb=kb, generator=LLMGenerator(model, name="fake"))
    runnable = AssistantRunnable(assistant=assistant, k=3)
    chain = (
        RunnableLambda(lambda q: {"question": q}) | runnable | RunnableLambda(lambda a: (a.text, a.citations))
    )
    text, citations = chain.invoke(QUESTION)
    assert "49" in text and citations and citations[0].doc_id.startswith("000_")
    assert "49" in citation_document(citations[0]).page_content
    answer = runnable.invoke(QUESTION.replace("？", "?"))
    assert isinstance(answer, Answer) and answer.generator == "fake"


def test_history_is_used_for_follow_ups(kb):
    # First reply: the condensed standalone question; second: the answer.
    model = FakeListChatModel(responses=[QUESTION, "四川省成功创建49个省级现代服务业集聚区[1]。"])
    assistant = Assistant(kb.settings, kb=kb, generator=LLMGenerator(model, name="fake"))
    history = [HumanMessage("四川省的现代服务业集聚区怎么样？"), AIMessage("四川省重视集聚区建设。")]
    answer = AssistantRunnable(assistant=assistant).invoke({"question": "有多少个？", "history": history})
    assert answer.question == "有多少个？" and answer.rewritten_question == QUESTION
    assert answer.citations and "49" in answer.text


def test_history_shapes_become_turns():
    turn = Turn(question="a?", answer="b.")
    shapes = [turn, ("a?", "b."), {"question": "a?", "answer": "b."}, HumanMessage("a?"), AIMessage("b.")]
    assert to_turns(shapes) == [turn] * 4
    with pytest.raises(ValueError, match="cannot read a history entry"):
        to_turns([42])
    with pytest.raises(ValueError, match="needs a 'question' string"):
        AssistantRunnable.model_construct()._ask({"history": []})


def test_the_assistant_runnable_streams_pieces_then_the_answer(kb):
    reply = "四川省成功创建49个省级现代服务业集聚区[1]。"
    model = FakeListChatModel(responses=[reply])  # streams its reply a character at a time
    runnable = AssistantRunnable(
        assistant=Assistant(kb.settings, kb=kb, generator=LLMGenerator(model, name="fake"))
    )
    events = list(runnable.stream(QUESTION))
    pieces, answer = events[:-1], events[-1]
    assert isinstance(answer, Answer) and "49" in answer.text and answer.citations
    assert len(pieces) > 3 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).startswith("四川省成功创建49个")  # the tokens as the model wrote them


def test_a_streaming_lcel_chain_streams_through_the_runnable(kb):
    runnable = AssistantRunnable(assistant=Assistant(kb.settings, kb=kb))  # the extractive generator
    chain = RunnableLambda(lambda q: {"question": q, "k": 3}) | runnable
    events = list(chain.stream(QUESTION))
    assert isinstance(events[-1], Answer) and events[-1].citations
    assert events[:-1] and all(isinstance(p, str) for p in events[:-1])
    assert "".join(events[:-1]).strip() == events[-1].text.strip()  # checked before it is streamed


def test_the_runnable_streams_under_asyncio(kb):
    import asyncio

    runnable = AssistantRunnable(assistant=Assistant(kb.settings, kb=kb))

    async def collect():
        return [event async for event in runnable.astream({"question": QUESTION})]

    events = asyncio.run(collect())
    assert isinstance(events[-1], Answer) and all(isinstance(p, str) for p in events[:-1])
    with pytest.raises(ValueError, match="'question' string"):
        list(runnable.stream({"k": 3}))
