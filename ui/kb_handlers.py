"""Knowledge-base and eval tab handlers: uploads, deletion (confirmed first), re-indexing, new
knowledge bases, the bundled eval. Each returns the messages its tab shows and, through
:meth:`ui.handlers.Handlers.kb_view`, the refreshed document lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ui import evaluation, knowledge, meta_edit, strings
from ui.chat import error_message
from ui.handlers import Handlers, Outputs, UserError, warn
from ui.render import esc

# gradio spots these defaults and passes each call its own tracker.
PROGRESS = gr.Progress()
TQDM_PROGRESS = gr.Progress(track_tqdm=True)


def upload_folder() -> Path:
    """Where gradio stores what browsers upload (the only place an upload may come from)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def _progress(progress: gr.Progress):
    return lambda fraction, text: progress(fraction, desc=text)


class KnowledgeHandlers:
    def __init__(self, chat: Handlers, kb: dict[str, Any], ev: dict[str, Any]) -> None:
        self.chat, self.pool, self.kb, self.ev = chat, chat.pool, kb, ev

    def _fail(self, exc: Exception, collection: str) -> str:
        message = error_message(exc, collection)
        warn(message)
        return f"✗ {message}"

    def upload(self, files: list[Any] | None, collection: str, show_ids: bool, progress=PROGRESS) -> Outputs:
        kb = self.kb
        try:
            pairs = [(Path(_path_of(f)), _name_of(f)) for f in files or []]
            report = knowledge.upload_files(
                self.pool, collection, pairs, progress=_progress(progress), uploaded_to=upload_folder()
            )
        except UserError as exc:
            return {kb["message"]: self._fail(exc, collection)} | self.chat.kb_view(collection, show_ids)
        failed = [o for o in report.outcomes if not o.ok]
        if failed:
            warn("; ".join(f"{o.name}: {o.message}" for o in failed))
        return {kb["message"]: report.summary(), kb["files"]: None} | self.chat.kb_view(collection, show_ids)

    def ask_delete(self, doc_ids: list[str] | None) -> Outputs:
        """Deleting cannot be undone: say what will go and wait for a second click."""
        kb = self.kb
        if not doc_ids:
            warn(strings.SELECT_TO_DELETE)
            return {kb["message"]: f"✗ {strings.SELECT_TO_DELETE}"}
        text = f'<div class="confirm-text">{esc(strings.confirm_delete_documents(len(doc_ids)))}</div>'
        return {kb["delete_box"]: gr.update(visible=True), kb["delete_text"]: text}

    def cancel_delete(self) -> Outputs:
        return {self.kb["delete_box"]: gr.update(visible=False)}

    def delete(self, doc_ids: list[str] | None, collection: str, show_ids: bool) -> Outputs:
        try:
            message = knowledge.delete_documents(self.pool, collection, doc_ids or [])
        except UserError as exc:
            message = self._fail(exc, collection)
        return {self.kb["message"]: message} | self.cancel_delete() | self.chat.kb_view(collection, show_ids)

    def reindex(self, collection: str, rebuild: bool, show_ids: bool, progress=PROGRESS) -> Outputs:
        try:
            message = knowledge.reindex(self.pool, collection, rebuild=rebuild, progress=_progress(progress))
        except UserError as exc:
            message = self._fail(exc, collection)
        return {self.kb["message"]: message} | self.chat.kb_view(collection, show_ids)

    def create(self, name: str, browser: str) -> Outputs:
        """A new, empty knowledge base, switched to (its chat starts empty)."""
        try:
            created = self.pool.create(name)
        except UserError as exc:
            return {self.kb["message"]: self._fail(exc, name)}
        p = self.chat.p
        return self.chat.switch(created, browser) | {
            p.collection: gr.update(choices=self.pool.collections(), value=created),
            self.kb["message"]: strings.created(created),
            self.kb["new_name"]: "",
        }

    def show_ids(self, collection: str, show_ids: bool) -> Outputs:
        view = self.chat.kb_view(collection, show_ids)
        return {k: v for k, v in view.items() if k in (self.chat.p.table, self.chat.p.doc_order)}

    # --- the metadata editor ---------------------------------------------------------------------
    def meta_fields(self, collection: str, doc_id: str | None) -> Outputs:
        """The picked document's stored metadata in the editor's fields."""
        fields = self.kb["meta"]
        try:
            stored = meta_edit.stored_metadata(self.pool, collection, doc_id or "")
        except UserError as exc:
            return {self.kb["message"]: self._fail(exc, collection)} | {
                fields[k]: "" for k in meta_edit.FIELDS
            }
        return {self.kb["message"]: ""} | {fields[k]: stored[k] for k in meta_edit.FIELDS}

    def save_meta(self, collection: str, doc_id: str | None, show_ids: bool, *values: str) -> Outputs:
        """Write the edited fields to the document's sidecar and apply them (nothing re-embedded)."""
        try:
            message = meta_edit.save_metadata(
                self.pool, collection, doc_id or "", dict(zip(meta_edit.FIELDS, values, strict=True))
            )
        except UserError as exc:
            message = self._fail(exc, collection)
        out = {self.kb["message"]: message} | self.chat.kb_view(collection, show_ids)
        if doc_id and not message.startswith("✗"):
            out |= self.meta_fields(collection, doc_id) | {self.kb["message"]: message}
            out[self.chat.p.meta_doc] = gr.update(choices=out[self.chat.p.meta_doc]["choices"], value=doc_id)
        return out

    # --- eval tab ---------------------------------------------------------------------------------
    def run_eval(self, dataset: str | None = None, progress=TQDM_PROGRESS) -> tuple[str, str, str, str]:
        dataset = dataset or evaluation.DATASET
        settings = self.pool.settings.with_overrides(progress=True)
        try:
            view = evaluation.run_bundled(settings, dataset)
        except UserError as exc:
            where = evaluation.collections(settings).get(dataset, dataset)
            return esc(self._fail(exc, where)), "", "", ""
        return _eval_outputs(view)

    def latest_eval(self) -> tuple[str, str, str, str]:
        run_dir = evaluation.latest_run(self.pool.settings.data_dir)
        if run_dir is None:
            return strings.NO_EVAL_RUN, "", "", ""
        try:
            view = evaluation.load_run(run_dir)
        except (*UserError, OSError) as exc:
            return esc(self._fail(exc, run_dir.name)), "", "", ""
        return _eval_outputs(view)


def _eval_outputs(view: evaluation.EvalView) -> tuple[str, str, str, str]:
    where = f"✓ {esc(view.run_dir)}" if view.run_dir else "✓"
    report = view.report_html or f'<p class="muted">{esc(strings.NO_REPORT)}</p>'
    return where, view.summary_html, view.comparison, report


def _path_of(item: Any) -> str:
    return item if isinstance(item, str) else getattr(item, "path", None) or item["path"]


def _name_of(item: Any) -> str:
    if isinstance(item, str):
        return Path(item).name
    name = getattr(item, "orig_name", None) or (item.get("orig_name") if isinstance(item, dict) else None)
    return name or Path(_path_of(item)).name
