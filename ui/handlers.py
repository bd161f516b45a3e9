"""Event handlers: the glue between gradio components and the chat, knowledge base and eval code.

Every error a user can act on (``RagError``, ``ValueError``) becomes one line: a gr.Warning toast
and, where the tab has one, the message box or chat bubble; never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.index import DocumentSummary
from ui import evaluation, knowledge
from ui.chat import SOURCES_PLACEHOLDER, AskOptions, ChatSession, ask, error_message
from ui.render import esc, render_sources_panel
from ui.service import AssistantPool

UserError = (RagError, ValueError)
# gradio spots these defaults and passes each call its own tracker.
PROGRESS = gr.Progress()
TQDM_PROGRESS = gr.Progress(track_tqdm=True)


def warn(message: str) -> None:
    """A toast; gradio renders its text as HTML, so it is escaped (file names come from users)."""
    gr.Warning(esc(message))


def _fail(exc: Exception, collection: str = "") -> str:
    message = error_message(exc, collection)
    warn(message)
    return f"✗ {message}"


def _progress(progress: gr.Progress):
    return lambda fraction, text: progress(fraction, desc=text)


def upload_folder() -> Path:
    """Where gradio stores what browsers upload (the only place an upload may come from)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def empty_sources() -> str:
    return render_sources_panel([], placeholder=SOURCES_PLACEHOLDER)


class Handlers:
    def __init__(self, pool: AssistantPool) -> None:
        self.pool = pool

    # --- knowledge base state shown on several tabs -------------------------------------------
    def _documents(self, collection: str) -> list[DocumentSummary]:
        assistant = self.pool.get(collection)
        with self.pool.lock(collection).read():
            return assistant.kb.documents()

    def kb_view(self, collection: str) -> tuple[Any, ...]:
        """(status line, doc filter, document table, delete choices) for ``collection``."""
        try:
            docs = self._documents(collection)
        except UserError as exc:
            message = error_message(exc, collection)
            warn(message)
            empty = gr.update(choices=[], value=[])
            return f"⚠ {esc(message)}", empty, [], empty
        settings = self.pool.settings
        model = f" · {settings.llm_model}" if settings.llm_model else ""
        chunks = sum(d.chunks for d in docs)
        status = (
            f"知识库 **{collection}** · {len(docs)} 篇文档 docs · {chunks} 段 chunks · "
            f"生成 **{settings.generator}{model}**"
        )
        choices = [(_doc_label(d), d.doc_id) for d in docs]
        return (
            status,
            gr.update(choices=choices, value=[]),
            knowledge.document_rows(docs),
            gr.update(choices=choices, value=[]),
        )

    def load(self, collection: str | None) -> tuple[Any, ...]:
        """Page load: the collection list, then that collection's view."""
        try:
            names = self.pool.collections()
        except UserError as exc:
            names = [self.pool.default_collection]
            warn(error_message(exc))
        current = collection if collection in names else self.pool.default_collection
        return (gr.update(choices=names, value=current), *self.kb_view(current))

    def switch(self, collection: str) -> tuple[Any, ...]:
        """Another knowledge base: a new conversation over it."""
        return (ChatSession(collection), [], empty_sources(), *self.kb_view(collection))

    def create(self, name: str) -> tuple[Any, ...]:
        """A new, empty knowledge base, switched to (its chat starts empty)."""
        try:
            created = self.pool.create(name)
        except UserError as exc:
            return gr.skip(), _fail(exc), *(gr.skip() for _ in range(8))
        choices = gr.update(choices=self.pool.collections(), value=created)
        return choices, f"✓ 已创建 created {created}", "", *self.switch(created)

    # --- chat ---------------------------------------------------------------------------------
    def respond(
        self,
        question: str,
        session: ChatSession | None,
        collection: str,
        top_k: float,
        mode: str,
        doc_ids: list[str] | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream (chat messages, sources panel, session, question box)."""
        if session is None or session.collection != collection:
            session = ChatSession(collection)
        if not (question or "").strip():
            warn("请输入问题 (the question is empty)")
            yield session.messages(), gr.skip(), session, question
            return
        try:
            options = AskOptions.from_inputs(top_k, mode, doc_ids)
        except ValueError as exc:
            _fail(exc)
            yield session.messages(), gr.skip(), session, question
            return
        for update in ask(session, question, options, lambda: self.pool.get(collection)):
            if update.error:
                warn(update.error)
            sources = gr.skip() if update.sources is None else update.sources
            yield update.messages, sources, session, ""

    def ask_locked(self, *args: Any) -> Iterator[tuple[Any, ...]]:
        """``respond`` holding the collection's read lock (writes wait until answers finish)."""
        with self.pool.lock(args[2]).read():
            yield from self.respond(*args)

    def new_chat(self, collection: str) -> tuple[Any, ...]:
        return ChatSession(collection), [], empty_sources(), ""

    def example(self, evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    # --- knowledge base tab -------------------------------------------------------------------
    def upload(self, files: list[Any] | None, collection: str, progress=PROGRESS) -> tuple[Any, ...]:
        try:
            pairs = [(Path(_path_of(f)), _name_of(f)) for f in files or []]
            report = knowledge.upload_files(
                self.pool, collection, pairs, progress=_progress(progress), uploaded_to=upload_folder()
            )
        except UserError as exc:
            return _fail(exc, collection), gr.skip(), *self.kb_view(collection)
        if not all(o.ok for o in report.outcomes):
            warn("; ".join(f"{o.name}: {o.message}" for o in report.outcomes if not o.ok))
        return report.summary(), None, *self.kb_view(collection)

    def delete(self, doc_ids: list[str] | None, collection: str) -> tuple[Any, ...]:
        try:
            message = knowledge.delete_documents(self.pool, collection, doc_ids or [])
        except UserError as exc:
            message = _fail(exc, collection)
        return message, *self.kb_view(collection)

    def reindex(self, collection: str, rebuild: bool, progress=PROGRESS) -> tuple[Any, ...]:
        try:
            message = knowledge.reindex(self.pool, collection, rebuild=rebuild, progress=_progress(progress))
        except UserError as exc:
            message = _fail(exc, collection)
        return message, *self.kb_view(collection)

    # --- eval tab -----------------------------------------------------------------------------
    def run_eval(self, progress=TQDM_PROGRESS) -> tuple[Any, ...]:
        try:
            view = evaluation.run_bundled(self.pool.settings.with_overrides(progress=True))
        except UserError as exc:
            return esc(_fail(exc)), "", "", ""
        return _eval_outputs(view)

    def latest_eval(self) -> tuple[Any, ...]:
        run_dir = evaluation.latest_run(self.pool.settings.data_dir)
        if run_dir is None:
            return "✗ 还没有评测结果 (no eval run yet under the data folder)", "", "", ""
        try:
            view = evaluation.load_run(run_dir)
        except (*UserError, OSError) as exc:
            return esc(_fail(exc)), "", "", ""
        return _eval_outputs(view)


def _eval_outputs(view: evaluation.EvalView) -> tuple[str, str, str, str]:
    where = f"✓ {esc(view.run_dir)}" if view.run_dir else "✓"
    report = view.report_html or '<p class="muted">eval.report is not available: summary only.</p>'
    return where, view.summary_html, view.comparison, report


def _doc_label(doc: DocumentSummary) -> str:
    title = doc.title or doc.doc_id
    title = title if len(title) <= 30 else title[:29] + "…"
    return f"{title} · {doc.doc_id[:12]}"


def _path_of(item: Any) -> str:
    return item if isinstance(item, str) else getattr(item, "path", None) or item["path"]


def _name_of(item: Any) -> str:
    if isinstance(item, str):
        return Path(item).name
    name = getattr(item, "orig_name", None) or (item.get("orig_name") if isinstance(item, dict) else None)
    return name or Path(_path_of(item)).name
