"""Handlers over a real (hash-embedded) knowledge base: what the page shows on load, for an empty
knowledge base and one built with another model; asking, saving and reopening conversations;
switching knowledge base only after asking; the preview; the knowledge-base tab's messages."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from rag.index import KnowledgeBase
from ui.app import build, create_app
from ui.chat import ChatSession

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a request warns

CLUSTERS = "四川省成功创建了多少个省级现代服务业集聚区？"


class OtherModelEmbedder:
    model_id = "test:another-model"
    dimension = 256

    def embed_passages(self, texts):
        return np.ones((len(texts), self.dimension), dtype=np.float32) / 16

    def embed_query(self, text):
        return np.ones(self.dimension, dtype=np.float32) / 16


@pytest.fixture
def app(corpus_pool):
    return build(corpus_pool.settings, pool=corpus_pool)


def event(**data) -> gr.EventData:
    return gr.EventData(None, data)


def ask(app, session, question=CLUSTERS, browser="a" * 32):
    h, p = app.chat, app.page
    out = h.enqueue(question, session, session.collection, 5, "hybrid", [])
    assert out[p.question] == ""
    return list(h.answer(session, browser))


def test_load_shows_the_summary_filter_table_and_a_fresh_conversation(app, corpus_pool):
    p = app.page
    out = app.chat.load(None, None)
    assert len(out[p.browser]) == 32 and isinstance(out[p.session], ChatSession)
    assert "5 篇文档 documents" in out[p.kb_summary] and "quoted answers, no LLM" in out[p.kb_summary]
    assert (
        len(out[p.doc_filter]["choices"]) == 5
        and out[p.delete_ids]["choices"] == out[p.doc_filter]["choices"]
    )
    rows = out[p.table]["value"]
    assert len(rows) == 5 and out[p.table]["headers"][0] == "标题 Title"
    assert not any(str(r[0]).startswith("00") for r in rows)  # no ids unless asked
    assert "示例问题 Examples" in out[p.conversation] and "还没有保存的对话" in out[p.conversations]
    assert app.chat.load(None, out[p.browser])[p.browser] == out[p.browser]  # the browser keeps its id


def test_a_knowledge_base_built_with_another_model_is_a_message_until_rebuilt(make_pool):
    pool = make_pool()
    settings = pool.settings_for(pool.default_collection)
    KnowledgeBase(settings=settings, embedder=OtherModelEmbedder(), client=pool.client).ingest([])
    app = build(pool.settings, pool=pool)
    p = app.page
    view = app.chat.kb_view(pool.default_collection)
    assert "⚠" in view[p.kb_summary] and "另一个嵌入模型" in view[p.kb_summary]
    updates = ask(app, ChatSession(pool.default_collection))
    conversation = next(u[p.conversation] for u in updates if p.conversation in u)
    assert "msg-error" in conversation and "另一个嵌入模型" in conversation
    out = app.knowledge.reindex(pool.default_collection, True, False)
    assert "新增 added 5" in out[app.knowledge.kb["message"]] and "5 篇文档" in out[p.kb_summary]


def test_an_answer_streams_is_saved_and_reopens_with_its_sources(app, corpus_pool):
    h, p = app.chat, app.page
    browser, session = "b" * 32, ChatSession(corpus_pool.default_collection)
    updates = ask(app, session, browser=browser)
    assert any('data-stage="retrieving"' in u.get(p.live, "") for u in updates)
    final = next(u for u in updates if p.sources in u)
    assert "49" in final[p.conversation] and 'data-doc-id="000_' in final[p.sources]
    assert "四川省成功创建了多少个" in final[p.conversations]
    [saved] = h.store.list(browser)
    opened = h.open_conversation(
        ChatSession(corpus_pool.default_collection),
        corpus_pool.default_collection,
        browser,
        event(id=saved.id),
    )
    assert opened[p.session].conversation_id == saved.id and "49" in opened[p.conversation]
    assert 'data-doc-id="000_' in opened[p.sources]
    cite = h.cite(opened[p.session], event(turn=1, n=1))
    assert 'data-focus="1"' in cite[p.sources]
    renamed = h.rename_conversation(opened[p.session], browser, event(id=saved.id, title="集聚区"))
    assert "集聚区" in renamed[p.conversations] and opened[p.session].title == "集聚区"
    deleted = h.delete_conversation(
        opened[p.session], corpus_pool.default_collection, browser, event(id=saved.id)
    )
    assert deleted[p.session].conversation_id is None and h.store.list(browser) == []


def test_an_empty_question_changes_nothing(app, corpus_pool):
    p = app.page
    session = ChatSession(corpus_pool.default_collection)
    out = app.chat.enqueue("  ", session, session.collection, 5, "hybrid", [])
    assert p.question not in out and session.queue == []


def test_switching_knowledge_base_asks_first_when_the_conversation_has_turns(app, corpus_pool, make_pool):
    h, p = app.chat, app.page
    other = corpus_pool.create(f"{make_pool.prefix}-other")
    empty = ChatSession(corpus_pool.default_collection)
    assert h.request_switch(other, empty, "c" * 32)[p.session].collection == other  # nothing to lose
    session = ChatSession(corpus_pool.default_collection)
    ask(app, session)
    asked = h.request_switch(other, session, "c" * 32)
    assert asked[p.collection]["value"] == corpus_pool.default_collection  # not switched yet
    assert (
        asked[p.switch_box]["visible"] and other in asked[p.switch_text] and asked[p.switch_target] == other
    )
    assert not h.cancel_switch()[p.switch_box]["visible"]
    done = h.confirm_switch(other, "c" * 32)
    assert done[p.session].collection == other and done[p.collection]["value"] == other
    assert "0 篇文档" in done[p.kb_summary] and not done[p.switch_box]["visible"]


def test_a_document_opens_from_a_card_or_the_table(app, corpus_pool):
    h, p = app.chat, app.page
    collection = corpus_pool.default_collection
    doc = next(d for d in corpus_pool.get(collection).kb.documents() if d.doc_id.startswith("000_"))
    out = h.read(collection, event(doc_id=doc.doc_id, start=10, end=20))
    assert "preview-target" in out[p.preview] and doc.title in out[p.preview]
    order = h.kb_view(collection)[p.doc_order]
    row = order.index(doc.doc_id)
    selected = h.read_row(collection, order, gr.SelectData(None, {"index": [row, 0], "value": doc.title}))
    assert doc.title in selected[p.preview] and "preview-target" not in selected[p.preview]
    assert h.read(collection, event(doc_id="nope", start=None, end=None)) == gr.skip()


def test_create_app_builds_without_launching(corpus_pool):
    demo = create_app(corpus_pool.settings, pool=corpus_pool)
    assert isinstance(demo, gr.Blocks) and not demo.is_running
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {
        "ask",
        "upload",
        "delete_documents",
        "reindex",
        "create_collection",
        "run_eval",
        "latest_eval",
    } <= names
    assert demo._queue.default_concurrency_limit == corpus_pool.settings.ui_concurrency


def test_the_api_endpoint_answers_one_question(app, corpus_pool):
    answer, panel = app.chat.ask_api(CLUSTERS, corpus_pool.default_collection, 5, "hybrid", [])
    assert "49" in answer and "#cite-1-1" in answer and 'data-doc-id="000_' in panel
    answer, panel = app.chat.ask_api(" ", corpus_pool.default_collection)
    assert "msg-error" in answer and "The question is empty" in answer


def test_creating_a_knowledge_base_switches_to_it_and_a_bad_name_says_why_in_both_languages(make_pool):
    pool = make_pool()
    app = build(pool.settings, pool=pool)
    k, p = app.knowledge, app.page
    name = f"{make_pool.prefix}-fresh"
    out = k.create(name, "d" * 32)
    assert out[p.collection]["value"] == name and name in out[p.collection]["choices"]
    assert out[k.kb["message"]].startswith("✓") and out[k.kb["new_name"]] == ""
    assert out[p.session].collection == name and "0 篇文档" in out[p.kb_summary]
    bad = k.create("no spaces allowed", "d" * 32)
    assert (
        list(bad) == [k.kb["message"]]
        and "不可用" in bad[k.kb["message"]]
        and "cannot be used" in bad[k.kb["message"]]
    )


def test_delete_is_confirmed_first(app, corpus_pool):
    k, p = app.knowledge, app.page
    collection = corpus_pool.default_collection
    assert "请先选择" in k.ask_delete([])[k.kb["message"]]
    doc_id = corpus_pool.get(collection).kb.documents()[0].doc_id
    asked = k.ask_delete([doc_id])
    assert asked[k.kb["delete_box"]]["visible"] and "不可撤销" in asked[k.kb["delete_text"]]
    assert len(corpus_pool.get(collection).kb.documents()) == 5  # nothing deleted yet
    done = k.delete([doc_id], collection, False)
    assert "已删除 deleted 1" in done[k.kb["message"]] and "4 篇文档" in done[p.kb_summary]
    assert not done[k.kb["delete_box"]]["visible"]
