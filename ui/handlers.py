"""Chat-side event handlers: the glue between the page's components and the conversation,
conversation store, knowledge-base switching and the document preview.

Handlers return ``{component: value}`` for the components they change (gradio leaves the others
alone). Every error a user can act on (``RagError``, ``ValueError``) becomes one line: a
gr.Warning toast and, where there is one, a message on the page; never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.index import DocumentSummary
from ui import preview, sources, strings, views
from ui.chat import AskOptions, ChatSession, ChatTurn, drain, error_message
from ui.render import esc, render_error, render_welcome
from ui.service import AssistantPool
from ui.store import ConversationStore, new_browser_id, valid_id

UserError = (RagError, ValueError)
EXAMPLES = (
    ("四川省已建成多少个省级现代服务业集聚区？", "简体"),
    ("武侯區產業園區高質量發展大會是哪天召開的？", "繁體"),
    ("How many provincial modern service industry clusters has Sichuan established?", "English"),
    ("成都生活性服务业增加值要达到多少？", "简体"),
)
Outputs = dict[Any, Any]


def warn(message: str) -> None:
    """A toast; gradio renders its text as HTML, so it is escaped (file names come from users)."""
    gr.Warning(esc(message))


def welcome() -> str:
    return render_welcome(EXAMPLES)


@dataclass
class Page:
    """The components handlers read and write (built by :func:`ui.app.create_app`)."""

    browser: Any
    session: Any
    collection: Any
    switch_target: Any
    switch_box: Any
    switch_text: Any
    conversations: Any
    kb_summary: Any
    top_k: Any
    mode: Any
    doc_filter: Any
    active: Any
    conversation: Any
    live: Any
    question: Any
    stop: Any
    sources: Any
    preview: Any
    table: Any
    delete_ids: Any
    doc_order: Any
    show_ids: Any
    meta_doc: Any  # the metadata editor's document picker


class Handlers:
    def __init__(self, pool: AssistantPool, store: ConversationStore, page: Page) -> None:
        self.pool, self.store, self.p = pool, store, page
        self._preview_requests = 0

    # --- the knowledge base as several components show it ----------------------------------------
    def documents(self, collection: str) -> list[DocumentSummary]:
        assistant = self.pool.get(collection)
        with self.pool.lock(collection).read():
            return assistant.kb.documents()

    def kb_view(self, collection: str, show_ids: bool = False) -> Outputs:
        """The summary on the chat screen, the document filter, the table and the delete list."""
        p = self.p
        try:
            docs = views.newest_first(self.documents(collection))
        except UserError as exc:
            message = error_message(exc, collection)
            warn(message)
            empty = gr.update(choices=[], value=[])
            return {
                p.kb_summary: f'<div class="kb-summary error">⚠ {esc(message)}</div>',
                p.doc_filter: empty,
                p.delete_ids: empty,
                p.table: gr.update(
                    value=[],
                    headers=views.document_headers(show_ids=show_ids),
                    column_widths=views.document_widths(show_ids=show_ids),
                ),
                p.doc_order: [],
                p.meta_doc: gr.update(choices=[], value=None),
            }
        choices = [(_doc_label(d), d.doc_id) for d in docs]
        return {
            p.kb_summary: views.kb_summary(collection, docs, self.pool.settings),
            p.doc_filter: gr.update(choices=choices, value=[]),
            p.delete_ids: gr.update(choices=choices, value=[]),
            p.table: gr.update(
                value=views.document_rows(docs, show_ids=show_ids),
                headers=views.document_headers(show_ids=show_ids),
                column_widths=views.document_widths(show_ids=show_ids),
            ),
            p.doc_order: [d.doc_id for d in docs],
            p.meta_doc: gr.update(choices=choices, value=None),
        }

    def conversation_list(self, browser: str, session: ChatSession | None) -> str:
        current = session.conversation_id if session else None
        return views.conversation_list(self.store.list(browser) if valid_id(browser) else [], current)

    def _fresh(self, session: ChatSession, browser: str) -> Outputs:
        """What a fresh (or just opened) conversation shows."""
        p = self.p
        return {
            p.session: session,
            p.conversation: session.conversation_html(welcome()),
            p.live: "",
            p.sources: session.sources_html(),
            p.conversations: self.conversation_list(browser, session),
            p.stop: gr.update(interactive=False),
        }

    # --- page load ------------------------------------------------------------------------------
    def load(self, collection: str | None, browser: str | None) -> Outputs:
        try:
            names = self.pool.collections()
        except UserError as exc:
            names = [self.pool.default_collection]
            warn(error_message(exc, self.pool.default_collection))
        current = collection if collection in names else self.pool.default_collection
        browser = browser if valid_id(browser) else new_browser_id()
        out = {self.p.browser: browser, self.p.collection: gr.update(choices=names, value=current)}
        return out | self._fresh(ChatSession(current), browser) | self.kb_view(current)

    # --- asking -----------------------------------------------------------------------------------
    def _session(self, session: ChatSession | None, collection: str) -> ChatSession:
        return session if isinstance(session, ChatSession) else ChatSession(collection)

    def enqueue(
        self,
        question: str,
        session: ChatSession | None,
        collection: str,
        top_k: float,
        mode: str,
        doc_ids: list[str] | None,
        where: str | None = None,
    ) -> Outputs:
        """Queue a question (answered by :meth:`answer`, which runs next); the box is cleared now,
        so what is typed while the answer is written stays there."""
        p = self.p
        session = self._session(session, collection)
        try:
            options = AskOptions.from_inputs(top_k, mode, doc_ids, where)
            session.enqueue(question or "", options)
        except ValueError as exc:
            warn(str(exc))
            return {p.session: session}
        return {
            p.session: session,
            p.question: "",
            p.live: session.live_html(),
            p.stop: gr.update(interactive=True),
        }

    def ask_example(
        self,
        session: ChatSession | None,
        collection: str,
        top_k: float,
        mode: str,
        doc_ids: list[str] | None,
        where: str | None,
        evt: gr.EventData,
    ) -> Outputs:
        question = str(getattr(evt, "question", ""))
        out = self.enqueue(question, session, collection, top_k, mode, doc_ids, where)
        out.pop(self.p.question, None)  # an example leaves what the user was typing alone
        return out

    def answer(self, session: ChatSession | None, browser: str) -> Iterator[Outputs]:
        """Answer the queued questions, streaming each; a second call while one runs returns
        at once (the running one picks the new question up)."""
        p = self.p
        if not isinstance(session, ChatSession):
            yield gr.skip()
            return
        collection = session.collection

        def save(s: ChatSession, turn: ChatTurn) -> None:
            if valid_id(browser):
                self.store.save_turn(browser, s, turn)

        ran = False
        for update in drain(
            session,
            lambda: self.pool.get(collection),
            guard=lambda: self.pool.lock(collection).read(),
            on_turn=save,
            welcome=welcome(),
        ):
            ran = True
            out: Outputs = {p.live: update.live}
            if update.error:
                warn(update.error)
            if update.conversation is not None:
                out[p.conversation] = update.conversation
                out[p.conversations] = self.conversation_list(browser, session)
            if update.sources is not None:
                out[p.sources] = update.sources
            yield out
        if ran:
            yield {p.live: session.live_html(), p.stop: gr.update(interactive=session.busy)}
        else:
            yield gr.skip()

    def ask_api(
        self,
        question: str,
        collection: str,
        top_k: float = 5,
        mode: str = "hybrid",
        doc_ids: list[str] | None = None,
        where: str | None = None,
    ) -> tuple[str, str]:
        """One question, answered in a conversation of its own: (the answer's HTML, its sources' HTML)."""
        session = ChatSession(collection)
        try:
            session.enqueue(question or "", AskOptions.from_inputs(top_k, mode, doc_ids, where))
        except ValueError as exc:
            return render_error(str(exc)), sources.placeholder()
        for _ in drain(
            session, lambda: self.pool.get(collection), guard=lambda: self.pool.lock(collection).read()
        ):
            pass
        return session.turns[-1].html, session.sources_html()

    def stop(self, session: ChatSession | None, question: str) -> Outputs:
        """Stop the answer being written; questions still waiting go back into the box if it is
        empty (nothing typed is lost)."""
        p = self.p
        if not isinstance(session, ChatSession):
            return gr.skip()
        taken = session.request_stop()
        out: Outputs = {}
        if taken and not (question or "").strip():
            out[p.question] = "\n".join(taken)
        out[p.live] = session.live_html()
        return out

    def cite(self, session: ChatSession | None, evt: gr.EventData) -> Outputs:
        """A marker of an answer whose sources are not in the panel: show that answer's sources."""
        if not isinstance(session, ChatSession):
            return gr.skip()
        turn, n = int(getattr(evt, "turn", 0) or 0), int(getattr(evt, "n", 0) or 0)
        if not any(t.number == turn and t.answer for t in session.turns):
            return gr.skip()
        session.selected = turn
        return {self.p.sources: session.sources_html(turn, focus=n)}

    # --- the document preview ----------------------------------------------------------------------
    def read(self, collection: str, evt: gr.EventData) -> Outputs:
        doc_id = str(getattr(evt, "doc_id", "") or "")
        return self._preview(collection, doc_id, getattr(evt, "start", None), getattr(evt, "end", None))

    def read_row(self, collection: str, order: list[str] | None, evt: gr.SelectData) -> Outputs:
        """A click in the documents table opens that document."""
        order = order or []
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not isinstance(row, int) or not 0 <= row < len(order):
            return gr.skip()
        return self._preview(collection, order[row], None, None)

    def _preview(self, collection: str, doc_id: str, start: Any, end: Any) -> Outputs:
        try:
            assistant = self.pool.get(collection)
            with self.pool.lock(collection).read():
                view = preview.load_view(assistant.kb, doc_id)
        except UserError as exc:
            warn(error_message(exc, collection))
            return gr.skip()
        self._preview_requests += 1
        span = (
            (int(start), int(end))
            if isinstance(start, int | float) and isinstance(end, int | float)
            else (None, None)
        )
        return {
            self.p.preview: preview.render_preview(
                view, start=span[0], end=span[1], request=self._preview_requests
            )
        }

    # --- conversations ---------------------------------------------------------------------------
    def new_chat(self, session: ChatSession | None, collection: str, browser: str) -> Outputs:
        if isinstance(session, ChatSession) and session.busy:
            warn(strings.BUSY)
            return gr.skip()
        return self._fresh(ChatSession(collection), browser)

    def open_conversation(
        self, session: ChatSession | None, collection: str, browser: str, evt: gr.EventData
    ) -> Outputs:
        if isinstance(session, ChatSession) and session.busy:
            warn(strings.BUSY)
            return gr.skip()
        opened = self.store.load(browser, str(getattr(evt, "id", ""))) if valid_id(browser) else None
        if opened is None:
            warn(strings.NO_SUCH_CONVERSATION)
            return {self.p.conversations: self.conversation_list(browser, session)}
        out = self._fresh(opened, browser)
        if opened.collection != collection:
            out[self.p.collection] = gr.update(value=opened.collection)
            out |= self.kb_view(opened.collection)
        return out

    def rename_conversation(self, session: ChatSession | None, browser: str, evt: gr.EventData) -> Outputs:
        conversation_id, title = str(getattr(evt, "id", "")), str(getattr(evt, "title", ""))
        renamed = valid_id(browser) and self.store.rename(browser, conversation_id, title)
        if renamed and isinstance(session, ChatSession) and session.conversation_id == conversation_id:
            session.title = title
        return {self.p.conversations: self.conversation_list(browser, session)}

    def delete_conversation(
        self, session: ChatSession | None, collection: str, browser: str, evt: gr.EventData
    ) -> Outputs:
        conversation_id = str(getattr(evt, "id", ""))
        if valid_id(browser):
            self.store.delete(browser, conversation_id)
        if (
            isinstance(session, ChatSession)
            and session.conversation_id == conversation_id
            and not session.busy
        ):
            return self._fresh(ChatSession(collection), browser)
        return {self.p.conversations: self.conversation_list(browser, session)}

    # --- switching knowledge base ------------------------------------------------------------------
    def request_switch(self, target: str, session: ChatSession | None, browser: str) -> Outputs:
        """Another knowledge base was picked: switch at once if the conversation is empty, else ask
        first (the picker shows the current one until the user confirms)."""
        p = self.p
        current = session.collection if isinstance(session, ChatSession) else self.pool.default_collection
        if not isinstance(session, ChatSession) or not session.turns or target == current:
            return self.switch(target, browser)
        if session.busy:
            warn(strings.BUSY)
            return {p.collection: gr.update(value=current)}
        return {
            p.collection: gr.update(value=current),
            p.switch_target: target,
            p.switch_box: gr.update(visible=True),
            p.switch_text: f'<div class="switch-text">{esc(strings.switch_question(target))}</div>',
        }

    def confirm_switch(self, target: str | None, browser: str) -> Outputs:
        if not target:
            return self.cancel_switch()
        return self.switch(target, browser) | {self.p.collection: gr.update(value=target)}

    def cancel_switch(self) -> Outputs:
        return {self.p.switch_target: None, self.p.switch_box: gr.update(visible=False)}

    def switch(self, collection: str, browser: str) -> Outputs:
        return self._fresh(ChatSession(collection), browser) | self.kb_view(collection) | self.cancel_switch()

    # --- settings --------------------------------------------------------------------------------
    def settings_changed(self, top_k: float, mode: str, doc_ids: list[str] | None) -> str:
        return views.active_settings(int(top_k), str(mode), len(doc_ids or []))


def _doc_label(doc: DocumentSummary) -> str:
    title = doc.title or doc.doc_id
    title = title if len(title) <= 30 else title[:29] + "…"
    return f"{title} · {doc.date}" if doc.date else title
