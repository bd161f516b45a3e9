"""The knowledge-base summary, the active settings line, the conversation list and the document
table: what they say, in both languages, escaped."""

from __future__ import annotations

import re

from rag.index import DocumentSummary
from rag.settings import Settings
from ui import views
from ui.store import ConversationInfo


def doc(doc_id: str, title: str, date: str, added: str = "2025-01-01T10:00:00+00:00", chunks: int = 3):
    return DocumentSummary(doc_id, title, date, "川办函〔2020〕31号", f"/x/{doc_id}.txt", chunks, added)


DOCS = [
    doc("000_a", "四川通报", "2020-06-01"),
    doc("001_b", "习近平视察", "2023-08-01"),
    doc("002_c", "武侯大会", "2024-11-16"),
    doc("003_d", "成渝经济圈", "2021-05-01"),
    doc("004_e", "成都意见", "2018-02-13"),
    doc("005_f", "新上传<b>", "", added="2025-03-01T08:00:00+00:00"),
]


def test_the_summary_names_counts_dates_newest_titles_and_the_generator_in_words():
    html = views.kb_summary("sichuan", DOCS, Settings())
    assert "知识库 sichuan · 6 篇文档 documents · 18 段 chunks" in html
    assert "2018-02-13 – 2024-11-16" in html
    assert "摘录回答 · 不使用大模型 / quoted answers, no LLM" in html
    recent = re.findall(r'data-doc-id="([^"]+)"', html)
    assert recent == ["002_c", "001_b", "003_d", "000_a", "004_e"]  # five, most recent date first
    assert "<b>" not in html


def test_an_llm_generator_is_described_with_its_model():
    html = views.kb_summary("sichuan", DOCS[:1], Settings(generator="openai", llm_model="qwen2.5"))
    assert "大模型（qwen2.5）撰写，引用经核验 / written by an LLM (qwen2.5), citations checked" in html


def test_an_empty_knowledge_base_says_what_to_do():
    html = views.kb_summary("fresh", [], Settings())
    assert "0 篇文档" in html and "上传文件" in html and "upload files" in html


def test_the_table_is_newest_first_without_ids_unless_asked():
    ordered = views.newest_first(DOCS)
    assert ordered[0].doc_id == "005_f" and [d.doc_id for d in ordered[1:]] == [
        "002_c",
        "001_b",
        "003_d",
        "000_a",
        "004_e",
    ]
    rows = views.document_rows(ordered)
    assert rows[1] == ["武侯大会", "2024-11-16", "川办函〔2020〕31号", 3, "2025-01-01 10:00"]
    assert all(not str(r[0]).startswith("00") for r in rows)
    assert views.document_rows(ordered, show_ids=True)[1][0] == "002_c"
    assert views.document_headers() == [
        "标题 Title",
        "日期 Date",
        "文号 Doc number",
        "段落数 Chunks",
        "添加时间 Added",
    ]
    assert views.document_headers(show_ids=True)[0] == "文档 ID Document id"


def test_the_active_settings_line_makes_a_filter_stand_out():
    assert "混合 hybrid · 5 段 passages · 全部文档 all documents" in views.active_settings(5, "hybrid", 0)
    filtered = views.active_settings(3, "keyword", 2)
    assert 'class="active-settings filtered"' in filtered and "仅 2 篇文档 only 2 documents" in filtered


def test_the_conversation_list_marks_the_open_one_and_escapes_titles():
    items = [
        ConversationInfo("a" * 32, "sichuan", "<script>x</script>", 1000.0, 3),
        ConversationInfo("b" * 32, "other", "第二个", 0.0, 1),
    ]
    html = views.conversation_list(items, "a" * 32, now=1030.0)
    assert html.count('<li class="conv') == 2 and '<li class="conv active" data-id="' + "a" * 32 in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "刚刚 just now" in html
    assert "重命名 Rename" in html and "确认删除 Delete" in html
    assert "还没有保存的对话" in views.conversation_list([], None)
