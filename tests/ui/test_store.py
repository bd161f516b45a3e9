"""Conversations kept per browser in SQLite: saved turn by turn, listed newest first, opened again
with their answers and sources, renamed, deleted; one browser never sees another's."""

from __future__ import annotations

import pytest

from rag.types import Answer, Citation, Passage
from ui.chat import AskOptions, ChatSession, ChatTurn
from ui.store import ConversationStore, answer_from_dict, new_browser_id, title_of, valid_id

PASSAGE = Passage(
    "000_a:c1", "000_a", "成功创建49个省级现代服务业集聚区。", 10, 28, section="一、成效", title="通报"
)
CITATION = Citation(
    1, "000_a:c1", "000_a", "通报", "2020-06-01", "一、成效", PASSAGE.text, 0, 18, 10, 28, ((4, 7),)
)
ANSWER = Answer(
    "多少个？",
    "成功创建49个。 [1]",
    [CITATION],
    False,
    "zh-Hans",
    passages=[PASSAGE],
    timings={"total": 0.5},
    generator="extractive",
    support=1.0,
    verification_notes=["ok"],
)


@pytest.fixture
def store(tmp_path):
    return ConversationStore(tmp_path / "ui" / "conversations.sqlite3")


def answered(number: int, question: str = "多少个？") -> ChatTurn:
    return ChatTurn(number, question, "answered", ANSWER, ANSWER.text, settings_line="hybrid · top-5")


def test_an_answer_survives_the_round_trip_through_its_dict():
    restored = answer_from_dict(ANSWER.to_dict())
    assert restored == ANSWER
    assert restored.citations[0].highlights == ((4, 7),)


def test_turns_are_saved_and_the_conversation_opens_again(store):
    browser, session = new_browser_id(), ChatSession("sichuan")
    store.save_turn(browser, session, answered(1, "四川省已建成多少个省级现代服务业集聚区？"))
    store.save_turn(browser, session, ChatTurn(2, "再问", "error", error="出错了"))
    store.save_turn(browser, session, ChatTurn(3, "停", "stopped", text="写到一半"))
    assert valid_id(session.conversation_id) and session.title.startswith("四川省已建成")
    [info] = store.list(browser)
    assert (info.id, info.collection, info.turns) == (session.conversation_id, "sichuan", 3)
    opened = store.load(browser, session.conversation_id)
    assert [t.status for t in opened.turns] == ["answered", "error", "stopped"]
    assert opened.turns[0].answer == ANSWER and opened.turns[0].html == session_turn_html(1)
    assert opened.selected == 1 and "cited-span" in opened.sources_html()
    assert [t.question for t in opened.history()] == ["四川省已建成多少个省级现代服务业集聚区？"]


def session_turn_html(number: int) -> str:
    return answered(number, "四川省已建成多少个省级现代服务业集聚区？").html


def test_conversations_are_listed_newest_first_renamed_and_deleted(store):
    browser = new_browser_id()
    older, newer = ChatSession("sichuan"), ChatSession("other-kb")
    store.save_turn(browser, older, answered(1, "旧问题"))
    store.save_turn(browser, newer, answered(1, "新问题"))
    assert [c.title for c in store.list(browser)] == ["新问题", "旧问题"]
    assert store.rename(browser, older.conversation_id, "  我的\n对话  ")
    assert store.load(browser, older.conversation_id).title == "我的 对话"
    assert not store.rename(browser, older.conversation_id, "   ")
    assert store.delete(browser, newer.conversation_id)
    assert [c.title for c in store.list(browser)] == ["我的 对话"]
    assert store.load(browser, newer.conversation_id) is None


def test_one_browser_cannot_read_or_change_anothers_conversations(store):
    mine, theirs = new_browser_id(), new_browser_id()
    session = ChatSession("sichuan")
    store.save_turn(mine, session, answered(1))
    assert store.list(theirs) == [] and store.load(theirs, session.conversation_id) is None
    assert not store.rename(theirs, session.conversation_id, "x")
    assert not store.delete(theirs, session.conversation_id)
    store.save_turn(theirs, session, answered(2))  # not theirs: a new conversation of their own
    assert session.conversation_id != store.list(mine)[0].id
    assert store.list(mine)[0].turns == 1


def test_titles_are_one_line_and_bounded():
    assert title_of("  a\n b  ") == "a b"
    assert len(title_of("长" * 200)) == 60 and title_of("长" * 200).endswith("…")
    assert not valid_id("../../etc") and valid_id(new_browser_id())


def test_options_are_kept_with_the_turn_line(store):
    browser, session = new_browser_id(), ChatSession("sichuan")
    line = AskOptions(k=3, mode="keyword", doc_ids=("000_a",)).describe("extractive")
    store.save_turn(browser, session, ChatTurn(1, "q", "answered", ANSWER, ANSWER.text, settings_line=line))
    assert store.load(browser, session.conversation_id).turns[0].settings_line == line
