"""A conversation as the chat tab shows it, and one streamed exchange. No gradio here.

Each turn is rendered once, when it finishes, and kept: streaming an answer re-renders only that
answer, so a long conversation costs the same per update as a short one (the sources panel, which
holds every turn's sources, is rebuilt once per turn by joining the kept pieces).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from rag.errors import EmptyIndexError, IndexMismatchError, RagError
from rag.pipeline import Assistant
from rag.settings import RETRIEVAL_MODES
from rag.types import Answer, Turn
from ui import render

HISTORY_WINDOW = 10  # earlier turns passed to the assistant for follow-up questions
MIN_UPDATE_SECONDS = 0.05  # streamed pieces arriving faster than this are sent together
MAX_TOP_K = 20
SOURCES_PLACEHOLDER = (
    '<div class="placeholder-title">来源 Sources</div>'
    "<p>回答引用的段落会显示在这里；点击回答中的 <b>[n]</b> 可定位到对应原文。</p>"
    "<p>Passages cited by an answer appear here; click an <b>[n]</b> marker to jump to its source.</p>"
)


@dataclass(frozen=True)
class AskOptions:
    """The retrieval settings one question is asked with (shown with the answer)."""

    k: int
    mode: str
    doc_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_TOP_K:
            raise ValueError(f"top-k must be between 1 and {MAX_TOP_K}; got {self.k}")
        if self.mode not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval mode must be one of {', '.join(RETRIEVAL_MODES)}; got {self.mode!r}")

    @classmethod
    def from_inputs(cls, k: object, mode: object, doc_ids: Sequence[str] | None) -> AskOptions:
        try:
            number = int(k)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ValueError(f"top-k must be a whole number; got {k!r}") from None
        return cls(k=number, mode=str(mode), doc_ids=tuple(sorted(doc_ids or ())))

    def describe(self, generator: str) -> str:
        docs = f" · {len(self.doc_ids)} docs: {', '.join(self.doc_ids)}" if self.doc_ids else ""
        return f"{self.mode} · top-{self.k}{docs} · {generator}"


@dataclass
class ChatTurn:
    question: str
    answer_text: str  # empty when the turn ended in an error
    question_html: str
    answer_html: str
    sources_html: str = ""


@dataclass
class ChatSession:
    """One browser session's conversation (kept in a gr.State)."""

    collection: str = ""
    turns: list[ChatTurn] = field(default_factory=list)

    def history(self) -> list[Turn]:
        answered = [t for t in self.turns if t.answer_text]
        return [Turn(t.question, t.answer_text) for t in answered[-HISTORY_WINDOW:]]

    def messages(self, pending: tuple[str, str] | None = None) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for t in self.turns:
            out.append({"role": "user", "content": t.question_html})
            out.append({"role": "assistant", "content": t.answer_html})
        if pending is not None:
            out.append({"role": "user", "content": pending[0]})
            out.append({"role": "assistant", "content": pending[1]})
        return out

    def sources_panel(self) -> str:
        sections = [t.sources_html for t in self.turns if t.sources_html]
        return render.render_sources_panel(sections, placeholder=SOURCES_PLACEHOLDER)


@dataclass(frozen=True)
class Update:
    """What the chat shows after one step: messages, and the sources panel when it changed."""

    messages: list[dict[str, str]]
    sources: str | None
    error: str | None = None


def error_message(exc: Exception, collection: str) -> str:
    """One line for the user: what went wrong and what to do."""
    if isinstance(exc, EmptyIndexError):
        return (
            f"知识库「{collection}」还是空的：请在「知识库」页上传文件，或运行 rag ingest。"
            f" (The knowledge base '{collection}' is empty.)"
        )
    if isinstance(exc, IndexMismatchError):
        return f"知识库「{collection}」是用另一个嵌入模型建立的：请在「知识库」页勾选“从头重建”后重新索引。 ({exc})"
    return " ".join(str(exc).split()) or type(exc).__name__


def ask(
    session: ChatSession,
    question: str,
    options: AskOptions,
    assistant_for: Callable[[], Assistant],
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Update]:
    """Stream one exchange: the question with a growing answer, then the finished turn (kept in
    ``session``). Errors from the assistant end the turn with a one-line message."""
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    number = len(session.turns) + 1
    question_html = render.render_question(question)
    yield Update(session.messages((question_html, render.render_partial("", number))), None)
    text, last = "", clock()
    try:
        assistant = assistant_for()
        answer: Answer | None = None
        stream = assistant.ask_stream(
            question,
            k=options.k,
            mode=options.mode,
            doc_ids=set(options.doc_ids) or None,
            history=session.history(),
        )
        for event in stream:
            if isinstance(event, Answer):
                answer = event
                continue
            text += event
            if clock() - last >= MIN_UPDATE_SECONDS:
                last = clock()
                yield Update(session.messages((question_html, render.render_partial(text, number))), None)
        if answer is None:
            raise RagError("the assistant finished without an answer")
    except (RagError, ValueError) as exc:
        message = error_message(exc, session.collection)
        session.turns.append(ChatTurn(question, "", question_html, render.render_error(message)))
        yield Update(session.messages(), None, error=message)
        return
    line = options.describe(answer.generator or assistant.settings.generator)
    session.turns.append(
        ChatTurn(
            question=question,
            answer_text=answer.text,
            question_html=question_html,
            answer_html=render.render_answer(answer, number, settings_line=line),
            sources_html=render.render_sources(answer, number),
        )
    )
    yield Update(session.messages(), session.sources_panel())
