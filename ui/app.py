"""The page: chat with a sources panel, the knowledge base tab, the eval tab.

``create_app`` only builds the Blocks (nothing is loaded until a page opens); serving is in
:mod:`ui.serve`, theme and script in :mod:`ui.theme`.
"""

from __future__ import annotations

import gradio as gr

from rag.settings import RETRIEVAL_MODES, Settings
from ui.chat import MAX_TOP_K, ChatSession
from ui.handlers import Handlers, empty_sources
from ui.knowledge import DOCUMENT_COLUMNS, UPLOAD_TYPES
from ui.service import AssistantPool

TITLE = "天府政策问答 · Tianfu Policy QA"
EXAMPLES = (
    ("四川省已建成多少个省级现代服务业集聚区？", "简体"),
    ("武侯區產業園區高質量發展大會是哪天召開的？", "繁體"),
    ("How many provincial modern service industry clusters has Sichuan established?", "English"),
    ("成都生活性服务业增加值要达到多少？", "简体"),
)
HEADER = (
    "<h1>天府政策问答 <span style='font-weight:400;opacity:.6'>Tianfu Policy QA</span></h1>"
    "<p>用简体、繁體或 English 提问，每句回答都标注原文出处。"
    " Ask in Chinese or English; every sentence cites its source passage.</p>"
)


def create_app(settings: Settings, *, pool: AssistantPool | None = None) -> gr.Blocks:
    """Build the UI for ``settings`` (``pool`` lets tests inject fake assistants)."""
    pool = pool or AssistantPool(settings)
    h = Handlers(pool)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        session = gr.State(ChatSession(pool.default_collection))
        with gr.Row(elem_id="app-header"):
            gr.HTML(HEADER, elem_id="app-title", scale=1)
            collection = gr.Dropdown(
                choices=[pool.default_collection],
                value=pool.default_collection,
                label="知识库 Knowledge base",
                scale=0,
                min_width=280,
                elem_id="collection",
            )
        with gr.Tabs():
            with gr.Tab("对话 Chat", id="chat"):
                chat = _chat_tab(settings)
                status = chat["status"]
            with gr.Tab("知识库 Knowledge base", id="kb"):
                kb = _kb_tab(settings)
            with gr.Tab("评测 Eval", id="eval"):
                ev = _eval_tab()

        kb_outputs = [status, chat["doc_filter"], kb["table"], kb["delete_ids"]]
        demo.load(h.load, [collection], [collection, *kb_outputs], api_name="refresh")
        switch_outputs = [session, chat["chatbot"], chat["sources"], *kb_outputs]
        collection.input(h.switch, [collection], switch_outputs, api_name="switch")
        kb["create"].click(
            h.create,
            [kb["new_name"]],
            [collection, kb["message"], kb["new_name"], *switch_outputs],
            api_name="create_collection",
        )
        _wire_chat(h, collection, session, chat)
        _wire_kb(h, collection, kb, kb_outputs)
        _wire_eval(h, ev)
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    return demo


Components = dict[str, gr.components.Component]


def _wire_chat(h: Handlers, collection: gr.Dropdown, session: gr.State, chat: Components) -> None:
    ask_inputs = [chat["question"], session, collection, chat["top_k"], chat["mode"], chat["doc_filter"]]
    ask_outputs = [chat["chatbot"], chat["sources"], session, chat["question"]]
    chat["question"].submit(h.ask_locked, ask_inputs, ask_outputs, api_name="ask")
    chat["send"].click(h.ask_locked, ask_inputs, ask_outputs, api_visibility="private")
    chat["chatbot"].example_select(h.example, None, [chat["question"]], api_visibility="private").then(
        h.ask_locked, ask_inputs, ask_outputs
    )
    new_chat_outputs = [session, chat["chatbot"], chat["sources"], chat["question"]]
    chat["new"].click(h.new_chat, [collection], new_chat_outputs, api_name="new_chat")
    chat["chatbot"].clear(h.new_chat, [collection], new_chat_outputs)


def _wire_kb(h: Handlers, collection: gr.Dropdown, kb: Components, kb_outputs: list) -> None:
    kb["upload"].click(
        h.upload, [kb["files"], collection], [kb["message"], kb["files"], *kb_outputs], api_name="upload"
    )
    kb["delete"].click(
        h.delete, [kb["delete_ids"], collection], [kb["message"], *kb_outputs], api_name="delete_documents"
    )
    kb["reindex"].click(
        h.reindex, [collection, kb["rebuild"]], [kb["message"], *kb_outputs], api_name="reindex"
    )


def _wire_eval(h: Handlers, ev: Components) -> None:
    outputs = [ev["message"], ev["summary"], ev["comparison"], ev["report"]]
    ev["run"].click(
        h.run_eval,
        None,
        outputs,
        api_name="run_eval",
        concurrency_limit=1,
        show_progress_on=[ev["comparison"]],
    )
    ev["latest"].click(h.latest_eval, None, outputs, api_name="latest_eval")


def _chat_tab(settings: Settings) -> Components:
    with gr.Row(equal_height=False):
        with gr.Column(scale=7, elem_id="chat-column"):
            with gr.Row(elem_id="chat-bar", equal_height=True):
                status = gr.Markdown(elem_id="kb-status")
                new = gr.Button("＋ 新对话 New chat", size="sm", scale=0, min_width=130, elem_id="new-chat")
            chatbot = gr.Chatbot(
                elem_id="chatbot",
                height=560,
                show_label=False,
                layout="bubble",
                buttons=["copy"],
                feedback_options=None,
                latex_delimiters=[],
                examples=[{"text": q, "display_text": f"{q}  ·  {script}"} for q, script in EXAMPLES],
                placeholder="**问我关于政策文件的问题** · Ask about the policy documents",
            )
            with gr.Row(elem_id="composer"):
                question = gr.Textbox(
                    show_label=False,
                    container=False,
                    placeholder="输入问题，回车发送 · Type a question and press Enter",
                    scale=8,
                    lines=1,
                    max_lines=4,
                    autofocus=True,
                    elem_id="question",
                )
                send = gr.Button("发送 Ask", variant="primary", scale=0, min_width=110, elem_id="send")
            with gr.Accordion("检索设置 Settings", open=False, elem_id="settings"):
                model = f" · 模型 model `{settings.llm_model}`" if settings.llm_model else ""
                gr.Markdown(
                    f"生成 Generator: `{settings.generator}`{model}（由配置决定 · from configuration）"
                )
                with gr.Row():
                    top_k = gr.Slider(1, MAX_TOP_K, value=settings.top_k, step=1, label="top-k 段落数")
                    mode = gr.Radio(
                        list(RETRIEVAL_MODES), value=settings.retrieval_mode, label="检索方式 Mode"
                    )
                doc_filter = gr.Dropdown(
                    choices=[], value=[], multiselect=True, label="只在这些文档中检索 Only these documents"
                )
        with gr.Column(scale=5, elem_id="sources-column"):
            sources = gr.HTML(empty_sources(), elem_id="sources", js_on_load=None)
    return {
        "status": status,
        "chatbot": chatbot,
        "question": question,
        "send": send,
        "new": new,
        "top_k": top_k,
        "mode": mode,
        "doc_filter": doc_filter,
        "sources": sources,
    }


def _kb_tab(settings: Settings) -> Components:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            files = gr.File(
                label=f"上传文件 Upload ({', '.join(UPLOAD_TYPES)}; ≤ {settings.max_upload_mb} MB)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                elem_id="upload",
            )
            upload = gr.Button("加入知识库 Add to knowledge base", variant="primary")
            message = gr.Textbox(label="结果 Result", lines=4, interactive=False, elem_id="kb-message")
            with gr.Accordion("维护 Maintenance", open=True):
                delete_ids = gr.Dropdown(choices=[], value=[], multiselect=True, label="选择文档 Documents")
                delete = gr.Button("删除所选文档 Delete selected", variant="stop")
                rebuild = gr.Checkbox(label="从头重建 Rebuild from scratch (re-embed everything)")
                reindex = gr.Button("重新索引 Re-index")
            with gr.Accordion("新建知识库 New knowledge base", open=False):
                new_name = gr.Textbox(label="名称 Name (letters, digits, - or _)", max_lines=1)
                create = gr.Button("创建 Create")
        with gr.Column(scale=2):
            table = gr.Dataframe(
                headers=DOCUMENT_COLUMNS,
                value=[],
                interactive=False,
                wrap=True,
                column_widths=["17%", "41%", "12%", "14%", "7%", "9%"],
                label="文档 Documents",
                elem_id="documents",
            )
    return {
        "files": files,
        "upload": upload,
        "message": message,
        "delete_ids": delete_ids,
        "delete": delete,
        "rebuild": rebuild,
        "reindex": reindex,
        "new_name": new_name,
        "create": create,
        "table": table,
    }


def _eval_tab() -> Components:
    gr.Markdown(
        "运行内置评测集（`eval/datasets/sichuan.jsonl`，知识库 `eval-sichuan`），并与基线"
        " `eval/baselines/sichuan.json` 比较。Runs the bundled eval set and compares it with the baseline."
    )
    with gr.Row():
        run = gr.Button("运行评测 Run eval", variant="primary")
        latest = gr.Button("查看最近一次 Latest run")
    message = gr.Markdown()
    summary = gr.HTML()
    comparison = gr.Code(label="基线比较 Baseline comparison", language=None, interactive=False)
    report = gr.HTML()
    return {
        "run": run,
        "latest": latest,
        "message": message,
        "summary": summary,
        "comparison": comparison,
        "report": report,
    }
