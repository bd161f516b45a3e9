"""A conversation as the chat tab shows it, its question queue, and streamed exchanges. No gradio.

Questions are queued on the session and answered one after another by :func:`drain`, so a
question sent while an answer is being written waits its turn instead of being dropped; Stop is a
flag the running exchange checks between pipeline events. Each finished turn is rendered once and
kept: the conversation's HTML is the kept pieces joined, the exchange in progress is rendered on
its own, and the sources panel shows one answer, so the 50th answer costs what the first does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from rag.errors import EmptyIndexError, IndexMismatchError, RagError
from rag.filters import Filter, make_filter
from rag.generate.markers import strip_reference_list
from rag.pipeline import Assistant
from rag.settings import RETRIEVAL_MODES
from rag.types import Answer, Stage, Turn
from ui import render, sources, strings

HISTORY_WINDOW = 10  # earlier turns passed to the assistant for follow-up questions
MIN_UPDATE_SECONDS = 0.05  # streamed pieces arriving faster than this are sent together
MAX_TOP_K = 20


@dataclass(frozen=True)
class AskOptions:
    """The retrieval settings one question is asked with (shown with the answer)."""

    k: int
    mode: str
    doc_ids: tuple[str, ...] = ()
    where: str = ""  # a document-facts filter (rag/filters.py): "issuer=…; since=2020"

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_TOP_K:
            raise ValueError(strings.bad_top_k(self.k, MAX_TOP_K))
        if self.mode not in RETRIEVAL_MODES:
            raise ValueError(strings.bad_mode(self.mode, RETRIEVAL_MODES))
        self.filter()  # a bad filter is refused when the question is asked

    def filter(self) -> Filter | None:
        try:
            built = make_filter(where=[self.where]) if self.where.strip() else None
        except ValueError as exc:
            raise ValueError(strings.bad_filter(self.where, str(exc))) from None
        return None if built is None or built.empty else built

    @classmethod
    def from_inputs(
        cls, k: object, mode: object, doc_ids: Sequence[str] | None, where: str | None = None
    ) -> AskOptions:
        try:
            number = int(k)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ValueError(strings.bad_top_k(k, MAX_TOP_K)) from None
        return cls(
            k=number, mode=str(mode), doc_ids=tuple(sorted(doc_ids or ())), where=(where or "").strip()
        )

    def describe(self, generator: str) -> str:
        docs = f" · {len(self.doc_ids)} docs: {', '.join(self.doc_ids)}" if self.doc_ids else ""
        facts = f" · {self.where}" if self.where else ""
        return f"{self.mode} · top-{self.k}{docs}{facts} · {generator}"


@dataclass(frozen=True)
class Pending:
    question: str
    options: AskOptions


@dataclass
class Live:
    """The exchange in progress: its stage and the text streamed so far."""

    number: int
    question: str
    stage: str | None = "retrieving"
    text: str = ""


@dataclass
class ChatTurn:
    """A finished exchange. ``status``: answered, error or stopped; ``text`` is the answer's text
    (what follow-up questions see), or what had been written when it was stopped."""

    number: int
    question: str
    status: str
    answer: Answer | None = None
    text: str = ""
    error: str = ""
    settings_line: str = ""
    revised: bool = False
    html: str = ""

    def __post_init__(self) -> None:
        if not self.html:
            self.html = render.render_turn(self.number, self.question, self._answer_html())

    def _answer_html(self) -> str:
        if self.status == "answered" and self.answer is not None:
            return render.render_answer(
                self.answer, self.number, settings_line=self.settings_line, revised=self.revised
            )
        if self.status == "stopped":
            return render.render_stopped(self.text, self.number)
        return render.render_error(self.error)


@dataclass
class ChatSession:
    """One browser tab's conversation (kept in a gr.State; events of the same tab share it)."""

    collection: str = ""
    conversation_id: str | None = None
    title: str = ""
    turns: list[ChatTurn] = field(default_factory=list)
    selected: int | None = None  # the turn whose sources the panel shows
    queue: list[Pending] = field(default_factory=list)
    busy: bool = False
    stop_requested: bool = False
    current: Live | None = None  # the exchange being written
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __deepcopy__(self, memo: dict) -> ChatSession:
        return ChatSession(self.collection)  # a State's initial value: a fresh conversation

    # --- the queue (called from different gradio events of the same tab) --------------------
    def enqueue(self, question: str, options: AskOptions) -> None:
        question = question.strip()
        if not question:
            raise ValueError(strings.EMPTY_QUESTION)
        with self.lock:
            self.queue.append(Pending(question, options))

    def start(self) -> bool:
        """Become the one draining the queue; False if another event already is (or it is empty)."""
        with self.lock:
            if self.busy or not self.queue:
                return False
            self.busy = True
            return True

    def next_pending(self) -> Pending | None:
        """The next question, or None (and no longer busy) when the queue is empty."""
        with self.lock:
            self.stop_requested = False
            if self.queue:
                return self.queue.pop(0)
            self.busy = False
            return None

    def request_stop(self) -> list[str]:
        """Stop the answer being written; the questions still waiting are returned (not asked)."""
        with self.lock:
            taken = [p.question for p in self.queue]
            self.queue.clear()
            if self.busy:
                self.stop_requested = True
            return taken

    def queued(self) -> list[str]:
        with self.lock:
            return [p.question for p in self.queue]

    def live_html(self) -> str:
        """The exchange being written (stage, text so far) and the questions waiting behind it."""
        queued = self.queued()
        live = self.current
        if live is None:
            return render.render_queue(queued)
        return render.render_live(
            live.number,
            live.question,
            stage=live.stage,
            text=live.text,
            queued=queued,
            stopping=self.stop_requested,
        )

    # --- what the page shows ----------------------------------------------------------------
    def history(self) -> list[Turn]:
        answered = [t for t in self.turns if t.status == "answered"]
        return [Turn(t.question, t.text) for t in answered[-HISTORY_WINDOW:]]

    def conversation_html(self, welcome: str = "") -> str:
        return "".join(t.html for t in self.turns) if self.turns else welcome

    def sources_html(self, number: int | None = None, *, focus: int | None = None) -> str:
        """The sources of turn ``number`` (default: the selected one)."""
        number = number if number is not None else self.selected
        turn = next((t for t in self.turns if t.number == number), None)
        if turn is None or turn.answer is None:
            return sources.placeholder()
        return sources.render_sources(turn.answer, turn.number, focus=focus)


@dataclass(frozen=True)
class Update:
    """What the chat shows after one step: the exchange in progress (``live``), and the kept
    conversation and the sources panel when they changed."""

    live: str
    conversation: str | None = None
    sources: str | None = None
    error: str | None = None
    turn: ChatTurn | None = None


def error_message(exc: Exception, collection: str) -> str:
    """One line for the user, in both languages: what went wrong and what to do."""
    if isinstance(exc, EmptyIndexError):
        return strings.empty_kb(collection)
    if isinstance(exc, IndexMismatchError):
        return strings.index_mismatch(collection, str(exc))
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return detail if any("\u4e00" <= ch <= "\u9fff" for ch in detail) else strings.generic_error(detail)


def drain(
    session: ChatSession,
    assistant_for: Callable[[], Assistant],
    *,
    guard: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    on_turn: Callable[[ChatSession, ChatTurn], None] = lambda session, turn: None,
    welcome: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Update]:
    """Answer the queued questions one by one (nothing if another event is already doing it).
    ``guard`` is held around each exchange (the knowledge base's read lock); ``on_turn`` is
    called with each finished turn (to save it)."""
    if not session.start():
        return
    while (pending := session.next_pending()) is not None:
        with guard():
            yield from exchange(
                session, pending, assistant_for, on_turn=on_turn, welcome=welcome, clock=clock
            )


def exchange(
    session: ChatSession,
    pending: Pending,
    assistant_for: Callable[[], Assistant],
    *,
    on_turn: Callable[[ChatSession, ChatTurn], None] = lambda session, turn: None,
    welcome: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Update]:
    """Stream one exchange: stages and the growing answer, then the finished turn (kept in
    ``session``). Errors from the assistant end the turn with a one-line message."""
    number = len(session.turns) + 1
    live = session.current = Live(number, pending.question)
    last = clock()
    yield Update(session.live_html())
    answer: Answer | None = None
    try:
        assistant = assistant_for()
        where = pending.options.filter()
        stream = assistant.ask_stream(
            pending.question,
            k=pending.options.k,
            mode=pending.options.mode,
            doc_ids=set(pending.options.doc_ids) or None,
            history=session.history(),
            **({"where": where} if where is not None else {}),
        )
        with contextlib.closing(stream):
            for event in stream:
                if session.stop_requested:
                    break
                if isinstance(event, Stage):
                    live.stage = event.name
                    yield Update(session.live_html())
                elif isinstance(event, Answer):
                    answer = event
                else:
                    live.text += event
                    if clock() - last >= MIN_UPDATE_SECONDS:
                        last = clock()
                        yield Update(session.live_html())
        if answer is None and not session.stop_requested:
            raise RagError("the assistant finished without an answer")
    except (RagError, ValueError) as exc:
        message = error_message(exc, session.collection)
        turn = ChatTurn(number, pending.question, "error", error=message)
        yield _finish(session, turn, on_turn, welcome, error=message)
        return
    text = live.text
    if answer is None:
        turn = ChatTurn(number, pending.question, "stopped", text=text)
    else:
        line = pending.options.describe(answer.generator or assistant.settings.generator)
        revised = bool(text.strip()) and answer.text.strip() != strip_reference_list(text).strip()
        turn = ChatTurn(
            number, pending.question, "answered", answer, answer.text, settings_line=line, revised=revised
        )
    yield _finish(session, turn, on_turn, welcome)


def _finish(
    session: ChatSession,
    turn: ChatTurn,
    on_turn: Callable[[ChatSession, ChatTurn], None],
    welcome: str,
    error: str | None = None,
) -> Update:
    session.turns.append(turn)
    session.current = None
    if turn.answer is not None:
        session.selected = turn.number
    on_turn(session, turn)
    panel = session.sources_html() if turn.answer is not None else None
    return Update(
        render.render_queue(session.queued()),
        conversation=session.conversation_html(welcome),
        sources=panel,
        error=error,
        turn=turn,
    )
