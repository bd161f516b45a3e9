"""Handlers: what the page shows for a good knowledge base, an empty one, and one built with
another embedding model; a chat over the corpus; the app builds without launching."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from rag.index import KnowledgeBase
from ui.app import create_app
from ui.chat import ChatSession
from ui.handlers import Handlers


class OtherModelEmbedder:
    model_id = "test:another-model"
    dimension = 256

    def embed_passages(self, texts):
        return np.ones((len(texts), self.dimension), dtype=np.float32) / 16

    def embed_query(self, text):
        return np.ones(self.dimension, dtype=np.float32) / 16


def test_kb_view_lists_documents_for_the_filter_and_the_table(corpus_pool):
    status, doc_filter, rows, delete_ids = Handlers(corpus_pool).kb_view(corpus_pool.default_collection)
    assert "5 篇文档" in status and "extractive" in status
    assert len(rows) == 5 and len(doc_filter["choices"]) == 5
    label, value = doc_filter["choices"][0]
    assert value.startswith("000_") and "四川省人民政府办公厅" in label
    assert delete_ids["choices"] == doc_filter["choices"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a request warns instead
def test_a_knowledge_base_built_with_another_model_is_a_message_until_rebuilt(make_pool):
    pool = make_pool()
    settings = pool.settings_for(pool.default_collection)
    KnowledgeBase(settings=settings, embedder=OtherModelEmbedder(), client=pool.client).ingest([])
    h = Handlers(pool)
    status, *_ = h.kb_view(pool.default_collection)
    assert status.startswith("⚠") and "另一个嵌入模型" in status and "test:another-model" in status
    updates = list(
        h.respond("问题", ChatSession(pool.default_collection), pool.default_collection, 5, "hybrid", [])
    )
    messages = updates[-1][0]
    assert "msg-error" in messages[-1]["content"] and "另一个嵌入模型" in messages[-1]["content"]
    message, status, *_ = h.reindex(pool.default_collection, True)
    assert "added 5" in message and "5 篇文档" in status


def test_respond_streams_an_answer_over_the_corpus(corpus_pool):
    h = Handlers(corpus_pool)
    collection = corpus_pool.default_collection
    session = ChatSession(collection)
    updates = list(
        h.ask_locked("四川省成功创建了多少个省级现代服务业集聚区？", session, collection, 5, "hybrid", [])
    )
    messages, sources, state, box = updates[-1]
    assert state is session and box == "" and len(session.turns) == 1
    assert "49" in messages[-1]["content"] and 'data-doc-id="000_' in sources


def test_switching_collection_starts_a_new_conversation(corpus_pool):
    session, chatbot, sources, status, *_ = Handlers(corpus_pool).switch(corpus_pool.default_collection)
    assert session.turns == [] and chatbot == [] and "sources-empty" in sources and "5 篇文档" in status


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


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_creating_a_knowledge_base_switches_to_it_and_a_bad_name_changes_nothing(make_pool):
    pool = make_pool()
    h = Handlers(pool)
    name = f"{make_pool.prefix}-fresh"
    dropdown, message, name_box, session, chatbot, _, status, *_ = h.create(name)
    assert dropdown["value"] == name and name in dropdown["choices"] and message.startswith("✓")
    assert name_box == "" and session.collection == name and chatbot == [] and "0 篇文档" in status
    outputs = h.create("no spaces allowed")
    assert outputs[1].startswith("✗") and "collection must be" in outputs[1]
    assert len(outputs) == 10 and all(o == gr.skip() for i, o in enumerate(outputs) if i != 1)
