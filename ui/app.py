"""The page: saved conversations in a side column; the chat (knowledge-base summary, settings, the
conversation, the composer) beside the sources panel; the knowledge base and eval tabs; a
document preview drawer over everything.

``create_app`` only builds the Blocks (nothing is loaded until a page opens); serving is in
:mod:`ui.serve`, theme, stylesheet and scripts in :mod:`ui.theme`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.settings import Settings
from ui import evaluation, kb_tab, sources, strings, theme, views
from ui.chat import MAX_TOP_K
from ui.handlers import Handlers, Page, welcome
from ui.kb_handlers import KnowledgeHandlers
from ui.service import AssistantPool
from ui.store import ConversationStore

BROWSER_KEY = "tianfu-rag-browser"
HEADER = (
    f"<h1>{strings.HEADER_TITLE_ZH} <span class='title-en'>{strings.HEADER_TITLE_EN}</span></h1>"
    f"<p>{strings.HEADER_SUBTITLE}</p>"
)
QUIET = kb_tab.QUIET  # no spinners or dimming over the chat while it streams


def browser_secret(data_dir: Path) -> str:
    """The key gradio encrypts the browser id with in local storage; kept, so ids survive restarts."""
    path = data_dir / "ui" / "browser-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class App:
    """The built page and its handlers (tests drive the handlers directly)."""

    demo: gr.Blocks
    page: Page
    chat: Handlers
    knowledge: KnowledgeHandlers


def create_app(
    settings: Settings, *, pool: AssistantPool | None = None, store: ConversationStore | None = None
) -> gr.Blocks:
    """Build the UI for ``settings`` (``pool`` lets tests inject fake assistants)."""
    return build(settings, pool=pool, store=store).demo


def build(
    settings: Settings, *, pool: AssistantPool | None = None, store: ConversationStore | None = None
) -> App:
    pool = pool or AssistantPool(settings)
    store = store or ConversationStore(pool.settings.data_dir / "ui" / "conversations.sqlite3")
    with gr.Blocks(title=strings.TITLE, analytics_enabled=False, fill_width=True) as demo:
        state = {
            "browser": gr.BrowserState(
                None, storage_key=BROWSER_KEY, secret=browser_secret(pool.settings.data_dir)
            ),
            "session": gr.State(None),
            "switch_target": gr.State(None),
            "doc_order": gr.State([]),
        }
        header = _header(pool)
        with gr.Tabs(overflow_behavior="wrap", elem_id="tabs"):
            with gr.Tab(strings.TAB_CHAT, id="chat"):
                chat = _chat_tab(settings)
            with gr.Tab(strings.TAB_KB, id="kb"):
                kb = kb_tab.build_tab(settings)
            with gr.Tab(strings.TAB_EVAL, id="eval"):
                ev = _eval_tab(pool.settings)
        doc_preview = gr.HTML("", elem_id="doc-preview", js_on_load=theme.PREVIEW_JS)
        page = _page(state, header, chat, kb, doc_preview)
        h = Handlers(pool, store, page)
        k = KnowledgeHandlers(h, kb, ev)
        out = Outputs.of(page, kb)
        demo.load(h.load, [page.collection, page.browser], out.everything, api_name="refresh", **QUIET)
        _wire_chat(h, page, chat, chat["new"], out)
        _wire_switch(h, page, header["switch_yes"], header["switch_no"], out)
        kb_tab.wire(k, page, kb, out)
        _wire_eval(k, ev)
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    return App(demo, page, h, k)


def _header(pool: AssistantPool) -> dict:
    """The title, the knowledge-base picker and the confirmation a switch asks for."""
    with gr.Row(elem_id="app-header"):
        gr.HTML(HEADER, elem_id="app-title", js_on_load=None)
        collection = gr.Dropdown(
            choices=[pool.default_collection],
            value=pool.default_collection,
            label=strings.COLLECTION_LABEL,
            elem_id="collection",
        )
    with gr.Row(visible=False, elem_id="switch-confirm") as switch_box:
        switch_text = gr.HTML("", js_on_load=None)
        switch_yes = gr.Button(strings.SWITCH, variant="primary", size="sm", scale=0, min_width=90)
        switch_no = gr.Button(strings.CANCEL, size="sm", scale=0, min_width=90)
    return {
        "collection": collection,
        "switch_box": switch_box,
        "switch_text": switch_text,
        "switch_yes": switch_yes,
        "switch_no": switch_no,
    }


def _page(state: dict, header: dict, chat: dict, kb: dict, preview: gr.HTML) -> Page:
    """The components handlers read and update, from the parts that built them."""
    shown = ("conversations", "kb_summary", "top_k", "mode", "doc_filter", "active", "conversation")
    shown += ("live", "question", "stop", "sources")
    return Page(
        **state,
        **{name: header[name] for name in ("collection", "switch_box", "switch_text")},
        **{name: chat[name] for name in shown},
        **{name: kb[name] for name in ("table", "delete_ids", "show_ids", "meta_doc")},
        preview=preview,
    )


@dataclass(frozen=True)
class Outputs:
    """Which components each kind of event may change (an update carries only these)."""

    fresh: list  # a conversation shown anew
    kb_view: list  # what shows the knowledge base's documents
    switch: list  # the knowledge-base picker and its confirmation
    kb_tab: list  # the knowledge-base tab's own messages
    everything: list

    @classmethod
    def of(cls, p: Page, kb: dict) -> Outputs:
        fresh = [p.session, p.conversation, p.live, p.sources, p.conversations, p.stop]
        kb_view = [p.kb_summary, p.doc_filter, p.delete_ids, p.table, p.doc_order, p.meta_doc]
        switch = [p.collection, p.switch_target, p.switch_box, p.switch_text]
        kb_tab = [kb["message"], kb["files"], kb["new_name"], kb["delete_box"], kb["delete_text"]]
        return cls(fresh, kb_view, switch, kb_tab, [*fresh, *kb_view, *switch, *kb_tab, p.browser])


def _wire_chat(h: Handlers, p: Page, chat: dict, new: gr.Button, out: Outputs) -> None:
    ask_inputs = [p.question, p.session, p.collection, p.top_k, p.mode, p.doc_filter, chat["meta_filter"]]
    queued = {"outputs": [p.session, p.question, p.live, p.stop], "concurrency_limit": None, **QUIET}
    answer = {
        "fn": h.answer,
        "inputs": [p.session, p.browser],
        "outputs": [p.live, p.conversation, p.conversations, p.sources, p.stop],
        "api_visibility": "private",
        **QUIET,
    }
    private = {"api_visibility": "private", "concurrency_limit": None, **QUIET}
    for trigger in (p.question.submit, chat["send"].click):
        trigger(h.enqueue, ask_inputs, trigger_mode="multiple", api_visibility="private", **queued).then(
            **answer
        )
    p.conversation.example(
        h.ask_example, ask_inputs[1:], trigger_mode="multiple", api_visibility="private", **queued
    ).then(**answer)
    gr.api(h.ask_api, api_name="ask")
    p.stop.click(h.stop, [p.session, p.question], [p.question, p.live], **private)
    p.conversation.cite(h.cite, [p.session], [p.sources], **private)
    for html in (p.sources, p.kb_summary):
        html.read(h.read, [p.collection], [p.preview], **private)
    p.table.select(h.read_row, [p.collection, p.doc_order], [p.preview], **private)
    conversation_inputs = [p.session, p.collection, p.browser]
    new.click(
        h.new_chat, conversation_inputs, out.fresh, api_name="new_chat", concurrency_limit=None, **QUIET
    )
    opened = [*out.fresh, *out.kb_view, p.collection]
    p.conversations.open_conversation(h.open_conversation, conversation_inputs, opened, **private)
    p.conversations.rename_conversation(
        h.rename_conversation, [p.session, p.browser], [p.conversations], **private
    )
    p.conversations.delete_conversation(h.delete_conversation, conversation_inputs, out.fresh, **private)
    settings_inputs = [p.top_k, p.mode, p.doc_filter]
    for control in settings_inputs:
        control.change(h.settings_changed, settings_inputs, [p.active], api_visibility="private", **QUIET)
    chat["clear_filter"].click(lambda: [], None, [p.doc_filter], api_visibility="private", **QUIET)


def _wire_switch(h: Handlers, p: Page, yes: gr.Button, no: gr.Button, out: Outputs) -> None:
    outputs = [*out.fresh, *out.kb_view, *out.switch]
    fast = {"concurrency_limit": None, **QUIET}
    p.collection.input(
        h.request_switch, [p.collection, p.session, p.browser], outputs, api_name="switch", **fast
    )
    yes.click(h.confirm_switch, [p.switch_target, p.browser], outputs, api_visibility="private", **fast)
    no.click(h.cancel_switch, None, out.switch, api_visibility="private", **fast)


def _wire_eval(k: KnowledgeHandlers, ev: dict) -> None:
    outputs = [ev["message"], ev["summary"], ev["comparison"], ev["report"]]
    ev["run"].click(
        k.run_eval,
        [ev["dataset"]],
        outputs,
        api_name="run_eval",
        concurrency_limit=1,
        show_progress_on=[ev["comparison"]],
    )
    ev["latest"].click(k.latest_eval, None, outputs, api_name="latest_eval")


def _chat_tab(settings: Settings) -> dict:
    with gr.Row(elem_id="chat-row", equal_height=False):
        with gr.Column(elem_id="conv-column"):
            parts = _conversation_list()
        with gr.Column(elem_id="chat-column"):
            parts["kb_summary"] = gr.HTML("", elem_id="kb-summary", js_on_load=theme.READ_JS)
            with gr.Accordion(strings.SETTINGS, open=False, elem_id="settings"):
                parts |= _chat_settings(settings)
            with gr.Column(elem_id="chat-scroll"):
                parts["conversation"] = gr.HTML(welcome(), elem_id="conversation", js_on_load=theme.CHAT_JS)
                parts["live"] = gr.HTML("", elem_id="live", js_on_load=theme.CHAT_JS)
            parts["active"] = gr.HTML(
                views.active_settings(settings.top_k, settings.retrieval_mode, 0), elem_id="active-settings"
            )
            with gr.Row(elem_id="composer"):
                parts |= _composer()
        with gr.Column(elem_id="sources-column"):
            parts["sources"] = gr.HTML(sources.placeholder(), elem_id="sources", js_on_load=theme.SOURCES_JS)
    return parts


def _conversation_list() -> dict:
    with gr.Row(elem_id="conv-bar"):
        gr.HTML(
            f'<button type="button" class="conv-toggle">☰ {strings.CONVERSATIONS}</button>'
            f'<div class="conv-head">{strings.CONVERSATIONS}</div>',
            elem_id="conv-heading",
            js_on_load=theme.CONVERSATIONS_TOGGLE_JS,
        )
        new = gr.Button(strings.NEW_CHAT, size="sm", scale=0, min_width=120, elem_id="new-chat")
    conversations = gr.HTML(
        views.conversation_list([], None), elem_id="conversations", js_on_load=theme.CONVERSATIONS_JS
    )
    return {"new": new, "conversations": conversations}


def _chat_settings(settings: Settings) -> dict:
    """The settings accordion: the generator in use, top k, retrieval mode, document filters."""
    model = settings.llm_model if settings.generator != "extractive" else ""
    gr.Markdown(
        f"**{strings.GENERATOR_LABEL}**: {strings.generator_words(settings.generator, model)}"
        f" {strings.GENERATOR_FROM_CONFIG}",
        elem_classes="generator-words",
    )
    with gr.Row():
        top_k = gr.Slider(
            1, MAX_TOP_K, value=settings.top_k, step=1, label=strings.TOP_K_LABEL, info=strings.TOP_K_INFO
        )
        mode = gr.Radio(list(strings.MODE_CHOICES), value=settings.retrieval_mode, label=strings.MODE_LABEL)
    doc_filter = gr.Dropdown(choices=[], value=[], multiselect=True, label=strings.FILTER_LABEL)
    clear_filter = gr.Button(strings.CLEAR_FILTER, size="sm")
    meta_filter = gr.Textbox(
        label=strings.META_FILTER_LABEL, placeholder=strings.META_FILTER_PLACEHOLDER, max_lines=1
    )
    return {
        "top_k": top_k,
        "mode": mode,
        "doc_filter": doc_filter,
        "clear_filter": clear_filter,
        "meta_filter": meta_filter,
    }


def _composer() -> dict:
    question = gr.Textbox(
        show_label=False,
        container=False,
        placeholder=strings.QUESTION_PLACEHOLDER,
        scale=8,
        lines=1,
        max_lines=4,
        elem_id="question",
    )
    send = gr.Button(strings.SEND, variant="primary", scale=0, min_width=84, elem_id="send")
    stop = gr.Button(strings.STOP, variant="stop", scale=0, min_width=84, interactive=False, elem_id="stop")
    return {"question": question, "send": send, "stop": stop}


def _eval_tab(settings: Settings) -> dict:
    gr.Markdown(strings.eval_intro(evaluation.collections(settings)))
    with gr.Row():
        dataset = gr.Dropdown(
            [(label, name) for name, label in strings.EVAL_DATASETS.items()],
            value=evaluation.DATASET,
            label=strings.EVAL_DATASET,
            elem_id="eval-dataset",
        )
        run = gr.Button(strings.RUN_EVAL, variant="primary")
        latest = gr.Button(strings.LATEST_EVAL)
    message = gr.Markdown()
    summary = gr.HTML(js_on_load=None)
    comparison = gr.Code(label=strings.COMPARISON, language=None, interactive=False)
    report = gr.HTML(js_on_load=None)
    return {
        "dataset": dataset,
        "run": run,
        "latest": latest,
        "message": message,
        "summary": summary,
        "comparison": comparison,
        "report": report,
    }
