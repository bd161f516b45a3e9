"""Every string the UI shows, in one place: fixed texts in both languages ("中文 English"), and the
labels around an answer in the answer's own language (:data:`ZH`, :data:`EN`). No gradio here.

Messages that carry values are functions, so each wording exists once.
"""

from __future__ import annotations

from dataclasses import dataclass

TITLE = "天府政策问答 · Tianfu Policy QA"
HEADER_TITLE_ZH = "天府政策问答"
HEADER_TITLE_EN = "Tianfu Policy QA"
HEADER_SUBTITLE = (
    "用简体、繁體或 English 提问，每句回答都标注原文出处。 "
    "Ask in Chinese or English; every sentence cites its source passage."
)

TAB_CHAT = "对话 Chat"
TAB_KB = "知识库 Knowledge base"
TAB_EVAL = "评测 Eval"
COLLECTION_LABEL = "知识库 Knowledge base"

# --- chat -----------------------------------------------------------------------------------
NEW_CHAT = "＋ 新对话 New chat"
CONVERSATIONS = "对话记录 Conversations"
NO_CONVERSATIONS = "还没有保存的对话。 No saved conversations yet."
RENAME = "重命名 Rename"
DELETE = "删除 Delete"
CONFIRM_DELETE = "确认删除 Delete"
CANCEL = "取消 Cancel"
SAVE = "保存 Save"
EMPTY_CHAT_TITLE = "问我关于政策文件的问题 · Ask about the policy documents"
EXAMPLES = "示例问题 Examples"
QUESTION_PLACEHOLDER = "输入问题，回车发送 · Type a question and press Enter"
SEND = "发送 Ask"
STOP = "■ 停止 Stop"
QUEUED = "排队中 Queued"
BUSY_HINT = "正在回答；新问题会排队，依次回答。 Answering; new questions wait their turn."
STOPPING = "正在停止… Stopping…"
STAGE_NAMES = {
    "retrieving": "检索 Retrieving",
    "answering": "生成 Answering",
    "verifying": "核验 Verifying",
}
STAGE_NOW = {
    "retrieving": "正在检索相关段落… Finding passages…",
    "answering": "正在组织回答… Writing the answer…",
    "verifying": "正在核对引用… Checking citations…",
}
COPY = "复制 Copy"
COPIED = "已复制 Copied"

# --- settings -------------------------------------------------------------------------------
SETTINGS = "⚙ 检索设置 Retrieval settings"
TOP_K_LABEL = "引用段落数 Passages the answer may use"
TOP_K_INFO = "回答从检索到的前几段中选句子（top-k）。 The answer quotes from the first k passages found."
MODE_LABEL = "检索方式 How passages are found"
MODE_CHOICES = (
    ("混合：关键词 + 语义 Hybrid: words + meaning", "hybrid"),
    ("语义：意思相近 Meaning only (dense)", "dense"),
    ("关键词：字面匹配 Words only (keyword)", "keyword"),
)
MODE_SHORT = {"hybrid": "混合 hybrid", "dense": "语义 meaning", "keyword": "关键词 words"}
FILTER_LABEL = "只在这些文档中检索 Only search these documents"
FILTER_ALL = "全部文档 all documents"
CLEAR_FILTER = "✕ 清除筛选 Clear filter"
META_FILTER_LABEL = "按文档信息筛选 Filter by document facts"
META_FILTER_PLACEHOLDER = "issuer=四川省人民政府办公厅; type=通知|意见; since=2020-01-01; until=2021"
GENERATOR_LABEL = "回答方式 Answers"
GENERATOR_FROM_CONFIG = "（由配置决定 · set in the configuration）"


def generator_words(generator: str, model: str = "") -> str:
    """What the configured generator does, in words."""
    if generator == "extractive":
        return "摘录回答 · 不使用大模型 / quoted answers, no LLM"
    name = f"（{model}）" if model else ""
    where = "本地大模型" if generator == "local" else "大模型"
    where_en = "a local LLM" if generator == "local" else "an LLM"
    return f"{where}{name}撰写，引用经核验 / written by {where_en}{f' ({model})' if model else ''}, citations checked"


def filter_words(count: int) -> str:
    return f"仅 {count} 篇文档 only {count} document{'s' if count != 1 else ''}" if count else FILTER_ALL


def settings_line(k: int, mode: str, filtered: int) -> str:
    return f"{MODE_SHORT.get(mode, mode)} · {k} 段 passages · {filter_words(filtered)}"


# --- knowledge-base summary and switching -----------------------------------------------------
def kb_counts(collection: str, documents: int, chunks: int) -> str:
    return f"知识库 {collection} · {documents} 篇文档 documents · {chunks} 段 chunks"


def date_range(first: str, last: str) -> str:
    return f"日期 dates {first} – {last}" if first != last else f"日期 date {first}"


RECENT_TITLES = "最新文档 Most recent documents"
KB_EMPTY = "这个知识库还没有文档：请在「知识库」页上传文件。 This knowledge base holds no documents yet: upload files on the Knowledge base tab."


def switch_question(target: str) -> str:
    return (
        f"切换到知识库「{target}」会开始一个新对话（当前对话已保存在对话记录中）。"
        f" Switch to '{target}'? A new conversation starts; the current one stays in the list."
    )


SWITCH = "切换 Switch"

# --- sources and document preview -------------------------------------------------------------
SOURCES_TITLE = "来源 Sources"
SOURCES_HINT_ZH = "回答引用的段落会显示在这里；点击回答中的 [n] 可定位到对应原文。"
SOURCES_HINT_EN = "Passages cited by an answer appear here; click an [n] marker to jump to its source."
READ_DOCUMENT = "阅读全文 Read document"
OCR_DOUBTFUL = "识别置信度低，请核对原件 Low OCR confidence: check the original"  # + " 0.62"
OCR_BADGE = "OCR"
SUPERSEDED = "已废止或被替代 Superseded by"  # + the newer document's id
SERIES = "文件沿革 Document series"
SERIES_SUPERSEDED = "已废止 superseded"
SERIES_CURRENT = "现行 in force"
CLOSE = "✕ 关闭 Close"
OUTLINE = "目录 Outline"
CHUNK = "段 chunk"
PREVIEW_FROM_CHUNKS = (
    "原文件已更改或不存在，正文由索引中的段落拼成，标题行可能缺失。"
    " The file changed or is gone: the text is pieced together from the indexed chunks."
)


def no_such_document(doc_id: str) -> str:
    return f"知识库中没有文档 {doc_id}。 No document {doc_id} in this knowledge base."


# --- errors ------------------------------------------------------------------------------------
EMPTY_QUESTION = "请输入问题。 The question is empty."
BUSY = "请先等待或停止当前回答。 Wait for the current answer or stop it first."
NO_SUCH_CONVERSATION = "找不到这个对话（可能已删除）。 That conversation is gone (deleted?)."
ERROR = "出错了 Error"


def empty_kb(collection: str) -> str:
    return (
        f"知识库「{collection}」还是空的：请在「知识库」页上传文件，或运行 rag ingest。"
        f" The knowledge base '{collection}' is empty: upload files or run rag ingest."
    )


def index_mismatch(collection: str, detail: str) -> str:
    return (
        f"知识库「{collection}」是用另一个嵌入模型建立的：请在「知识库」页勾选“从头重建”后重新索引。"
        f" It was built with another embedding model: re-index with 'Rebuild from scratch'. ({detail})"
    )


def generic_error(detail: str) -> str:
    return f"{ERROR}: {detail}"


# --- knowledge-base tab ----------------------------------------------------------------------
def upload_label(types: list[str], max_mb: int) -> str:
    return f"上传文件 Upload ({', '.join(types)}; ≤ {max_mb} MB)"


ADD_FILES = "加入知识库 Add to knowledge base"
RESULT = "结果 Result"
MAINTENANCE = "维护 Maintenance"
SELECT_DOCUMENTS = "选择文档 Documents"
DELETE_SELECTED = "删除所选文档 Delete selected"
REBUILD = "从头重建 Rebuild from scratch (re-embed everything)"
REINDEX = "重新索引 Re-index"
NEW_KB = "新建知识库 New knowledge base"
NEW_KB_NAME = "名称 Name (3–63: letters, digits, - or _)"
CREATE = "创建 Create"
DOCUMENTS = "文档 Documents (最新在前 newest first; 点击一行阅读全文 click a row to read it)"
SHOW_IDS = "显示文档 ID Show document ids"
COLUMNS = ("标题 Title", "日期 Date", "文号 Doc number", "段落数 Chunks", "添加时间 Added")
ID_COLUMN = "文档 ID Document id"
NO_FILES = "请先选择文件。 No files selected."
SELECT_TO_DELETE = "请先选择要删除的文档。 Select the documents to delete first."
NAME_EMPTY = "请给新知识库起个名字。 Give the new knowledge base a name."


def confirm_delete_documents(count: int) -> str:
    return f"确定删除这 {count} 篇文档？此操作不可撤销。 Delete {count} document{'s' if count != 1 else ''}? This cannot be undone."


def name_invalid(name: str) -> str:
    return (
        f"名称「{name}」不可用：需 3–63 个字符，只能是字母、数字、- 或 _。"
        f" '{name}' cannot be used: 3–63 letters, digits, '-' or '_'."
    )


def name_exists(name: str) -> str:
    return f"知识库「{name}」已存在。 The knowledge base '{name}' already exists."


def created(name: str) -> str:
    return f"✓ 已创建 created {name}"


def files_added(ok: int, total: int) -> str:
    return f"{ok}/{total} 个文件已加入知识库 files added"


def unsupported_type(suffix: str, allowed: list[str]) -> str:
    shown = suffix or "（无扩展名 no extension）"
    return f"不支持的文件类型 unsupported type {shown}（可用 allowed: {', '.join(allowed)}）"


def too_large(size_mb: float, max_mb: int) -> str:
    return f"文件太大 file too large: {size_mb:.1f} MB，上限 limit {max_mb} MB"


EMPTY_FILE = "文件是空的 the file is empty"
NOT_INDEXED = "无法建立索引 could not be indexed"
BAD_FILE_NAME = "文件名不可用 not a usable file name"
UPLOAD_STATE = {"added": "已添加 added", "updated": "已更新 updated", "unchanged": "未变化 unchanged"}


def chunks_written(count: int) -> str:
    return f"{count} 段 chunks"


def deleted(documents: int, chunks: int) -> str:
    return f"已删除 deleted {documents} 篇文档 documents, {chunks} 段 chunks"


def no_such_documents(doc_ids: list[str]) -> str:
    return f"没有这些文档 no such documents: {', '.join(doc_ids)}"


def nothing_to_index(collection: str) -> str:
    return f"「{collection}」没有可索引的文件，请先上传。 Nothing to index for '{collection}': upload files first."


def reindexed(added: int, updated: int, unchanged: int, removed: int, written: int, seconds: float) -> str:
    return (
        f"已重新索引 re-indexed: 新增 added {added} · 更新 updated {updated} · 未变 unchanged {unchanged}"
        f" · 移除 removed {removed} 篇文档 documents; 写入 wrote {written} 段 chunks ({seconds:.1f} s)"
    )


def skipped(path: str, reason: str) -> str:
    return f"跳过 skipped {path}: {reason}"


# --- metadata editor (knowledge-base tab) ------------------------------------------------------
EDIT_META = "编辑文档元数据 Edit document metadata"
EDIT_META_INFO = (
    "保存到文档旁的 name.meta.toml，只更新元数据，不重新计算向量。留空表示清除。"
    " Saved to the sidecar name.meta.toml beside the file; only the metadata is rewritten, no"
    " vectors are recomputed. An empty field clears the value."
)
META_DOCUMENT = "文档 Document"
META_FIELDS = {
    "title": "标题 Title",
    "issuer": "发文机关 Issuing body",
    "doc_number": "文号 Document number",
    "date": "成文日期 Date of issue (YYYY-MM-DD)",
    "effective_date": "施行日期 Date of effect (YYYY-MM-DD)",
    "doc_type": "类型 Type (通知/意见/办法/规划/新闻…)",
    "region": "地区 Region",
    "supersedes": "废止的文件 Repeals (文号或标题，用；分隔 numbers or titles, separated by ；)",
}
SAVE_META = "保存元数据 Save metadata"
SELECT_TO_EDIT = "请先选择要编辑的文档。 Select the document to edit first."
META_UNCHANGED = "元数据没有变化。 Nothing changed."


def metadata_saved(title: str, sidecar: str, fields: list[str], embedded: int) -> str:
    return (
        f"✓ 已保存「{title}」的元数据 metadata saved ({', '.join(fields)}) → {sidecar};"
        f" 重新计算向量 vectors recomputed: {embedded}"
    )


def metadata_refused(reason: object) -> str:
    return f"元数据未保存 metadata not saved: {reason}"


def source_gone(doc_id: str) -> str:
    return (
        f"文档「{doc_id}」的源文件已不存在，无法保存元数据。"
        f" The source file of '{doc_id}' is gone: its metadata cannot be saved."
    )


def bad_top_k(value: object, most: int) -> str:
    return f"段落数需为 1–{most} 的整数 top-k must be a whole number between 1 and {most}; got {value!r}"


def bad_filter(value: object, reason: str) -> str:
    return f"筛选条件有误 invalid filter {value!r}: {reason}"


def bad_mode(value: object, modes: tuple[str, ...]) -> str:
    return f"检索方式需为 retrieval mode must be one of {', '.join(modes)}; got {value!r}"


PROGRESS_DONE = "完成 done"
PROGRESS_READING = "读取文档列表 reading the document list"
PROGRESS_INDEXING = "建立索引 indexing"

# --- eval tab (ui/eval_strings.py) -------------------------------------------------------------
from ui.eval_strings import (  # noqa: E402, F401  (re-exported: the UI reads strings from here)
    COMPARISON,
    EVAL_ALL,
    EVAL_DATASET,
    EVAL_DATASETS,
    EVAL_METRIC,
    LATEST_EVAL,
    NO_EVAL_RUN,
    NO_REPORT,
    RUN_EVAL,
    eval_caption,
    eval_interval,
    eval_intro,
    no_baseline,
)


# --- labels around an answer, in the answer's language ------------------------------------------
@dataclass(frozen=True)
class Labels:
    cited: str
    other: str
    closest: str
    abstained: str
    details: str
    rewritten: str
    support: str
    answerability: str
    notes: str
    retrieval: str
    timings: str
    no_sources: str
    revised: str
    stopped: str
    read: str


ZH = Labels(
    cited="引用的段落",
    other="其他检索到的段落",
    closest="文档中没有答案，以下是最接近的段落",
    abstained="未找到答案",
    details="详情",
    rewritten="改写后的问题",
    support="引用支持率",
    answerability="可回答的把握",
    notes="核验说明",
    retrieval="检索",
    timings="耗时",
    no_sources="没有检索到段落",
    revised="核对引用后，回答已修改：以下是核验后的版本。",
    stopped="已停止",
    read="阅读全文",
)
EN = Labels(
    cited="Cited passages",
    other="Other retrieved passages",
    closest="The documents do not answer this; the closest passages",
    abstained="Not found in the documents",
    details="Details",
    rewritten="Rewritten question",
    support="Citation support",
    answerability="Answerable (estimate)",
    notes="Verification notes",
    retrieval="Retrieval",
    timings="Timings",
    no_sources="No passages retrieved",
    revised="Citation checks changed the answer: this is the checked version.",
    stopped="Stopped",
    read="Read document",
)


def labels_for(language: str) -> Labels:
    return EN if language.startswith("en") else ZH
