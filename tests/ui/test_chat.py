"""A conversation: stages and streaming, the question queue, Stop, history for follow-ups, errors as
messages, a revised LLM answer, and long chats costing the same per answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from rag.errors import EmptyIndexError, IndexMismatchError
from rag.settings import Settings
from rag.types import Answer, Citation, Passage, Stage
from ui.chat import HISTORY_WINDOW, AskOptions, ChatSession, drain, error_message

TEXT = "四川省成功创建49个省级现代服务业集聚区。 [1]"


@dataclass
class ScriptedAssistant:
    """Answers every question with the same cited sentence, streamed piece by piece after the
    stage events, and records what it was asked with. ``draft`` streams other text than the final
    answer (an LLM whose draft verification changed); ``on_piece`` runs before each piece."""

    settings: Settings = field(default_factory=Settings)
    calls: list[dict] = field(default_factory=list)
    fail_with: Exception | None = None
    draft: str | None = None
    on_piece: object = None
    closed: list[bool] = field(default_factory=list)

    def ask_stream(self, question, *, k, mode, doc_ids, history, **where):
        self.calls.append(
            {"question": question, "k": k, "mode": mode, "doc_ids": doc_ids, "history": history, **where}
        )
        try:
            yield Stage("retrieving")
            if self.fail_with:
                raise self.fail_with
            yield Stage("answering")
            streamed = self.draft or TEXT
            for i in range(0, len(streamed), 4):
                if callable(self.on_piece):
                    self.on_piece()
                yield streamed[i : i + 4]
            yield Stage("verifying")
            passage = Passage("000_a:c1", "000_a", "成功创建49个省级现代服务业集聚区。", 0, 18, title="通报")
            citation = Citation(1, "000_a:c1", "000_a", "通报", None, "", passage.text, 0, 18, 0, 18)
            yield Answer(
                question, TEXT, [citation], False, "zh-Hans", passages=[passage], generator="extractive"
            )
        except GeneratorExit:
            self.closed.append(True)
            raise


class Ticking:
    """A clock that advances one second per reading, so every piece is its own update."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


OPTIONS = AskOptions(k=5, mode="hybrid")


def run(session: ChatSession, question: str, assistant, **kwargs):
    session.enqueue(question, OPTIONS)
    return list(drain(session, lambda: assistant, **kwargs))


def test_an_answer_shows_its_stages_streams_then_ends_with_its_sources():
    session, assistant = ChatSession("sichuan"), ScriptedAssistant()
    updates = run(session, "四川省已建成多少个集聚区？", assistant, clock=Ticking())
    assert all(u.sources is None and u.conversation is None for u in updates[:-1])
    stages = [u.live for u in updates if 'class="stage now"' in u.live]
    assert any('data-stage="retrieving"' in s for s in stages) and any(
        'data-stage="verifying"' in s for s in stages
    )
    partial = [u.live for u in updates if "四川" in u.live]
    assert partial and all("streaming" in p for p in partial)
    final = updates[-1]
    assert final.live == "" and "streaming" not in final.conversation
    assert "#cite-1-1" in final.conversation and 'id="turn-1"' in final.conversation
    assert 'data-doc-id="000_a"' in final.sources and 'id="sources-1"' in final.sources
    assert "hybrid · top-5 · extractive" in final.conversation and "revised-note" not in final.conversation
    assert not session.busy and session.selected == 1


def test_fast_pieces_are_sent_together_but_stages_never_wait():
    frozen = iter(lambda: 0.0, None)  # the clock never moves
    updates = run(ChatSession("c"), "q", ScriptedAssistant(), clock=frozen.__next__)
    assert len(updates) == 5  # the start, three stages, the finished turn


def test_a_question_sent_while_answering_waits_its_turn_and_is_answered():
    session = ChatSession("sichuan")
    sent = []

    def ask_again():
        if not sent:
            sent.append(True)
            session.enqueue("第二个问题", OPTIONS)
            assert list(drain(session, lambda: assistant)) == []  # another event is draining already

    assistant = ScriptedAssistant(on_piece=ask_again)
    updates = run(session, "第一个问题", assistant, clock=Ticking())
    assert [c["question"] for c in assistant.calls] == ["第一个问题", "第二个问题"]
    assert any("排队中 Queued (1)" in u.live and "第二个问题" in u.live for u in updates)
    assert [t.question for t in session.turns] == ["第一个问题", "第二个问题"]
    assert all(t.status == "answered" for t in session.turns) and not session.busy


def test_stop_ends_the_answer_keeps_what_was_written_and_hands_back_the_queue():
    session = ChatSession("sichuan")
    pieces = []

    def stop_after_two():
        pieces.append(1)
        if len(pieces) == 3:
            session.enqueue("排队的问题", OPTIONS)
            assert session.request_stop() == ["排队的问题"]

    assistant = ScriptedAssistant(on_piece=stop_after_two)
    updates = run(session, "问题", assistant, clock=Ticking())
    turn = session.turns[-1]
    assert turn.status == "stopped" and turn.text == TEXT[:8] and turn.answer is None
    assert "已停止" in updates[-1].conversation and assistant.closed == [True]
    assert len(session.turns) == 1 and not session.busy and not session.stop_requested
    assert session.history() == []  # a stopped answer is not context for the next question
    assert run(session, "下一个", ScriptedAssistant())[-1].turn.status == "answered"


def test_an_llm_draft_changed_by_verification_is_replaced_with_a_note():
    session = ChatSession("sichuan")
    updates = run(
        session, "q", ScriptedAssistant(draft=TEXT + "另有100个国家级集聚区。 [1]"), clock=Ticking()
    )
    assert any("另有100个" in u.live for u in updates[:-1])
    final = updates[-1].conversation
    assert "另有100个" not in final and "revised-note" in final and session.turns[0].revised


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
    session = ChatSession("c")
    session.enqueue("q", AskOptions.from_inputs(3.0, "keyword", ["002_b", "000_a"]))
    list(drain(session, lambda: assistant))
    assert assistant.calls[0] | {"history": None} == {
        "question": "q",
        "k": 3,
        "mode": "keyword",
        "doc_ids": {"000_a", "002_b"},
        "history": None,
    }


def test_a_document_facts_filter_reaches_the_assistant_and_a_bad_one_is_refused():
    from rag.filters import make_filter

    assistant = ScriptedAssistant()
    session = ChatSession("c")
    options = AskOptions.from_inputs(5, "hybrid", [], " issuer=四川省人民政府办公厅; since=2020 ")
    assert "issuer=四川省人民政府办公厅; since=2020" in options.describe("extractive")
    session.enqueue("q", options)
    list(drain(session, lambda: assistant))
    assert assistant.calls[0]["where"] == make_filter(where=["issuer=四川省人民政府办公厅"], since="2020")
    with pytest.raises(ValueError, match="筛选条件有误 invalid filter 'since=soon'"):
        AskOptions.from_inputs(5, "hybrid", [], "since=soon")


def test_an_empty_question_is_refused_in_both_languages():
    with pytest.raises(ValueError, match="请输入问题。 The question is empty."):
        ChatSession("c").enqueue("   ", OPTIONS)


@pytest.mark.parametrize(
    ("k", "mode", "message"),
    [
        (0, "hybrid", "段落数需为 1–20 的整数 top-k must be a whole number between 1 and 20; got 0"),
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
        (ValueError("the question is\n empty"), "出错了 Error: the question is empty"),
    ],
)
def test_errors_end_the_turn_with_one_line(error, expected):
    session = ChatSession("kb1")
    final = run(session, "q", ScriptedAssistant(fail_with=error))[-1]
    assert final.error and expected in final.error and "\n" not in final.error
    assert 'class="msg-error"' in final.conversation and final.sources is None
    assert session.history() == []  # a failed turn is not context for the next question
    assert expected in error_message(error, "kb1")


def test_an_assistant_that_cannot_open_is_reported_too():
    def broken():
        raise IndexMismatchError("knowledge base 'kb1' was built with embedding model X")

    session = ChatSession("kb1")
    session.enqueue("q", OPTIONS)
    assert "另一个嵌入模型" in list(drain(session, broken))[-1].error


def test_finished_turns_are_kept_rendered_and_one_answers_sources_are_shown():
    session, assistant = ChatSession("sichuan"), ScriptedAssistant()
    run(session, "问题 0", assistant)
    first_sources = len(session.sources_html())
    for i in range(1, 50):
        run(session, f"问题 {i}", assistant)
    kept = [t.html for t in session.turns]
    updates = run(session, "第五十一个问题", assistant, clock=Ticking())
    assert all(a is b for a, b in zip(kept, [t.html for t in session.turns], strict=False))  # not re-rendered
    assert all(len(u.live) < 2000 for u in updates[:-1])  # the exchange in progress is rendered alone
    assert len(updates[-1].sources) < first_sources + 50  # the panel holds one answer, not fifty
    assert 'id="sources-51"' in updates[-1].sources
    assert 'id="sources-3"' in session.sources_html(3, focus=1) and 'data-focus="1"' in session.sources_html(
        3, focus=1
    )


def test_the_queue_is_safe_across_threads():
    session = ChatSession("c")
    threads = [threading.Thread(target=session.enqueue, args=(f"q{i}", OPTIONS)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert session.start() and not session.start()  # only one drainer
    assert len([p for p in iter(session.next_pending, None)]) == 20 and not session.busy
