"""The knowledge-base tab: uploads, the document table, deletion (confirmed first), re-indexing,
a new knowledge base, and the document metadata editor; built and wired here, handled by
:mod:`ui.kb_handlers`."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.settings import Settings
from ui import strings, views
from ui.handlers import Page
from ui.kb_handlers import KnowledgeHandlers
from ui.knowledge import UPLOAD_TYPES
from ui.meta_edit import FIELDS

QUIET = {"show_progress": "hidden"}  # no spinners or dimming over what an event changes


def build_tab(settings: Settings) -> dict:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            files = gr.File(
                label=strings.upload_label(UPLOAD_TYPES, settings.max_upload_mb),
                file_count="multiple",
                # No file_types: gradio would refuse other types with an English-only toast; the
                # server-side check says why in both languages (and lists the allowed types).
                type="filepath",
                elem_id="upload",
            )
            upload = gr.Button(strings.ADD_FILES, variant="primary", elem_id="add-files")
            message = gr.Textbox(label=strings.RESULT, lines=4, interactive=False, elem_id="kb-message")
            maintenance = _maintenance()
            with gr.Accordion(strings.NEW_KB, open=False):
                new_name = gr.Textbox(label=strings.NEW_KB_NAME, max_lines=1, elem_id="new-kb-name")
                create = gr.Button(strings.CREATE, elem_id="create-kb")
        with gr.Column(scale=2):
            show_ids = gr.Checkbox(label=strings.SHOW_IDS, value=False, elem_id="show-ids")
            table = gr.Dataframe(
                headers=views.document_headers(),
                value=[],
                interactive=False,
                wrap=True,
                max_height=640,
                column_widths=views.document_widths(),
                label=strings.DOCUMENTS,
                elem_id="documents",
            )
            meta_doc, meta = _metadata_editor()
    return {
        "files": files,
        "upload": upload,
        "message": message,
        **maintenance,
        "new_name": new_name,
        "create": create,
        "show_ids": show_ids,
        "table": table,
        "meta_doc": meta_doc,
        "meta": meta,
    }


def _maintenance() -> dict:
    """Delete (with its confirmation box) and re-index, in one accordion."""
    with gr.Accordion(strings.MAINTENANCE, open=True):
        delete_ids = gr.Dropdown(choices=[], value=[], multiselect=True, label=strings.SELECT_DOCUMENTS)
        delete = gr.Button(strings.DELETE_SELECTED, variant="stop", elem_id="delete")
        with gr.Column(visible=False, elem_id="delete-confirm") as delete_box:
            delete_text = gr.HTML("", js_on_load=None)
            with gr.Row():
                delete_yes = gr.Button(
                    strings.CONFIRM_DELETE, variant="stop", size="sm", elem_id="delete-yes"
                )
                delete_no = gr.Button(strings.CANCEL, size="sm", elem_id="delete-no")
        rebuild = gr.Checkbox(label=strings.REBUILD)
        reindex = gr.Button(strings.REINDEX)
    return {
        "delete_ids": delete_ids,
        "delete": delete,
        "delete_box": delete_box,
        "delete_text": delete_text,
        "delete_yes": delete_yes,
        "delete_no": delete_no,
        "rebuild": rebuild,
        "reindex": reindex,
    }


def _metadata_editor() -> tuple[gr.Dropdown, dict]:
    """A document picker, one text box per field, and the save button (``meta["save"]``)."""
    with gr.Accordion(strings.EDIT_META, open=False, elem_id="meta-editor"):
        gr.Markdown(strings.EDIT_META_INFO)
        meta_doc = gr.Dropdown(choices=[], value=None, label=strings.META_DOCUMENT, elem_id="meta-doc")
        meta: dict = {}
        wide = {"title", "supersedes"}
        pairs = [key for key in FIELDS if key not in wide]
        meta["title"] = _field("title")
        for i in range(0, len(pairs), 2):
            with gr.Row():
                for key in pairs[i : i + 2]:
                    meta[key] = _field(key)
        meta["supersedes"] = _field("supersedes")
        meta["save"] = gr.Button(strings.SAVE_META, variant="primary", elem_id="save-meta")
    return meta_doc, meta


def _field(key: str) -> gr.Textbox:
    return gr.Textbox(label=strings.META_FIELDS[key], max_lines=1, elem_id=f"meta-{key}")


def wire(k: KnowledgeHandlers, p: Page, kb: dict, out: Any) -> None:
    """``out``: the app's Outputs (which components each kind of event may change)."""
    changed = [*out.kb_tab, *out.kb_view]
    progress = {"outputs": changed, "show_progress_on": [kb["message"]]}
    confirm = [kb["message"], kb["delete_box"], kb["delete_text"]]
    kb["upload"].click(k.upload, [kb["files"], p.collection, p.show_ids], api_name="upload", **progress)
    kb["delete"].click(k.ask_delete, [p.delete_ids], confirm, api_visibility="private", **QUIET)
    kb["delete_no"].click(k.cancel_delete, None, confirm, api_visibility="private", **QUIET)
    kb["delete_yes"].click(
        k.delete, [p.delete_ids, p.collection, p.show_ids], api_name="delete_documents", **progress
    )
    kb["reindex"].click(k.reindex, [p.collection, kb["rebuild"], p.show_ids], api_name="reindex", **progress)
    kb["create"].click(
        k.create,
        [kb["new_name"], p.browser],
        [*changed, *out.fresh, *out.switch],
        api_name="create_collection",
        show_progress_on=[kb["message"]],
    )
    p.show_ids.change(
        k.show_ids, [p.collection, p.show_ids], [p.table, p.doc_order], api_visibility="private", **QUIET
    )
    fields = [kb["meta"][key] for key in FIELDS]
    kb["meta_doc"].input(
        k.meta_fields, [p.collection, kb["meta_doc"]], [kb["message"], *fields], api_visibility="private"
    )
    kb["meta"]["save"].click(
        k.save_meta,
        [p.collection, kb["meta_doc"], p.show_ids, *fields],
        [kb["message"], *fields, *out.kb_view],
        api_name="save_metadata",
        show_progress_on=[kb["message"]],
    )
