"""A conversation: streaming, history passed to the assistant, errors as messages, long chats."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rag.errors import EmptyIndexError, IndexMismatchError
from rag.settings import Settings
from rag.types import Answer, Citation, Passage
from ui.chat import HISTORY_WINDOW, AskOptions, ChatSession, ask, error_message


@dataclass
class ScriptedAssistant:
    """Answers every question with the same cited sentence, streamed piece by piece, and records
    what it was asked with."""

    settings: Settings = field(default_factory=Settings)
    calls: list[dict] = field(default_factory=list)
    fail_with: Exception | None = None

    def ask_stream(self, question, *, k, mode, doc_ids, history):
        self.calls.append(
            {"question": question, "k": k, "mode": mode, "doc_ids": doc_ids, "history": history}
        )
        if self.fail_with:
            raise self.fail_with
        text = "四川省成功创建49个省级现代服务业集聚区。 [1]"
        yield from (text[i : i + 4] for i in range(0, len(text), 4))
        passage = Passage("000_a:c1", "000_a", "成功创建49个省级现代服务业集聚区。", 0, 18, title="通报")
        citation = Citation(1, "000_a:c1", "000_a", "通报", None, "", passage.text, 0, 18, 0, 18)
        yield Answer(question, text, [citation], False, "zh-Hans", passages=[passage], generator="extractive")


class Ticking:
    """A clock that advances one second per reading, so every piece is its own update."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


OPTIONS = AskOptions(k=5, mode="hybrid")


def run(session: ChatSession, question: str, assistant, **kwargs):
    return list(ask(session, question, OPTIONS, lambda: assistant, **kwargs))


def test_an_answer_streams_then_ends_with_its_sources():
    session, assistant = ChatSession("sichuan"), ScriptedAssistant()
    updates = run(session, "四川省已建成多少个集聚区？", assistant, clock=Ticking())
    assert len(updates) > 3
    assert all(u.sources is None for u in updates[:-1])
    assert "streaming" in updates[0].messages[-1]["content"]
    partial = [u.messages[-1]["content"] for u in updates[1:-1]]
    assert all("streaming" in p for p in partial) and "四川" in partial[0]
    final = updates[-1]
    assert [m["role"] for m in final.messages] == ["user", "assistant"]
    assert "streaming" not in final.messages[-1]["content"] and "#cite-1-1" in final.messages[-1]["content"]
    assert 'data-doc-id="000_a"' in final.sources
    assert "hybrid · top-5 · extractive" in final.messages[-1]["content"]


def test_fast_pieces_are_sent_together():
    frozen = iter(lambda: 0.0, None)  # the clock never moves: only the first and last updates
    updates = run(ChatSession("c"), "q", ScriptedAssistant(), clock=frozen.__next__)
    assert len(updates) == 2


def test_previous_turns_are_passed_as_history_bounded_to_the_window():
    session, assistant = ChatSession("sichuan"), ScriptedAssistant()
    for i in range(HISTORY_WINDOW + 3):
        run(session, f"问题 {i}", assistant)
    assert assistant.calls[0]["history"] == []
    assert [t.question for t in assistant.calls[1]["history"]] == ["问题 0"]
    last = assistant.calls[-1]["history"]
    assert len(last) == HISTORY_WINDOW and last[-1].question == f"问题 {HISTORY_WINDOW + 1}"
    assert last[-1].answer.startswith("四川省成功创建49个")


def test_options_reach_the_assistant():
    assistant = ScriptedAssistant()
    options = AskOptions.from_inputs(3.0, "keyword", ["002_b", "000_a"])
    list(ask(ChatSession("c"), "q", options, lambda: assistant))
    assert assistant.calls[0] | {"history": None} == {
        "question": "q",
        "k": 3,
        "mode": "keyword",
        "doc_ids": {"000_a", "002_b"},
        "history": None,
    }


@pytest.mark.parametrize(
    ("k", "mode", "message"),
    [
        (0, "hybrid", "top-k must be between 1 and 20; got 0"),
        (5, "fuzzy", "got 'fuzzy'"),
        ("x", "dense", "got 'x'"),
    ],
)
def test_bad_options_name_the_bad_value(k, mode, message):
    with pytest.raises(ValueError, match=message):
        AskOptions.from_inputs(k, mode, None)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EmptyIndexError("knowledge base 'kb1' is empty"), "知识库「kb1」还是空的"),
        (IndexMismatchError("built with model A"), "另一个嵌入模型"),
        (ValueError("the question is\n empty"), "the question is empty"),
    ],
)
def test_errors_end_the_turn_with_one_line(error, expected):
    session = ChatSession("kb1")
    updates = run(session, "q", ScriptedAssistant(fail_with=error))
    final = updates[-1]
    assert final.error and expected in final.error and "\n" not in final.error
    assert 'class="msg-error"' in final.messages[-1]["content"]
    assert session.history() == []  # a failed turn is not context for the next question
    assert expected in error_message(error, "kb1")


def test_an_assistant_that_cannot_open_is_reported_too():
    def broken():
        raise IndexMismatchError("knowledge base 'kb1' was built with embedding model X")

    updates = list(ask(ChatSession("kb1"), "q", OPTIONS, broken))
    assert "另一个嵌入模型" in updates[-1].error


def test_thirty_turns_keep_rendered_messages_and_grow_linearly():
    session, assistant = ChatSession("sichuan"), ScriptedAssistant()
    run(session, "问题 0", assistant)
    one_turn = sum(len(m["content"]) for m in session.messages())
    for i in range(1, 30):
        run(session, f"问题 {i}", assistant)
    before = session.messages()
    updates = run(session, "第三十一个问题", assistant, clock=Ticking())
    # while the 31st answer streams, the 60 earlier messages are the same strings, not re-rendered
    for update in updates[:-1]:
        assert all(a["content"] is b["content"] for a, b in zip(update.messages[:60], before, strict=True))
    messages = session.messages()
    assert len(messages) == 62 and "第三十一个问题" in messages[-2]["content"]
    assert sum(len(m["content"]) for m in messages) < 31 * (one_turn + 50)
    assert len(session.sources_panel()) < 31 * 2 * len(session.turns[0].sources_html)
