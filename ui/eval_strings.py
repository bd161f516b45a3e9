"""The eval tab's strings, in both languages ("中文 English"); ``ui.strings`` re-exports them, so
the UI still reads every string from one place."""

from __future__ import annotations

EVAL_DATASET = "评测集 Eval set"
EVAL_DATASETS = {
    "sichuan": "四川政策问答 75 题 · Sichuan policy questions (75)",
    "archive": "政策档案 17 题（扫描件、表格、废止）· Policy archive (17: scans, tables, repeals)",
}


def eval_intro(collections: dict[str, str]) -> str:
    """What the tab runs: each set's questions file, its own knowledge base and its baseline."""
    rows = "".join(
        f"\n- `eval/datasets/{name}.jsonl` → 知识库 knowledge base `{collection}`，"
        f"基线 baseline `eval/baselines/{name}.json`"
        for name, collection in collections.items()
    )
    return (
        "运行一个评测集，并与它的基线比较（配对检验：只有超出容差且显著的下降才算退步）。"
        " Runs an eval set and compares it with its baseline (paired tests: only a drop beyond"
        " tolerance and significant counts as a regression)." + rows
    )


RUN_EVAL = "运行评测 Run eval"
LATEST_EVAL = "查看最近一次 Latest run"
COMPARISON = "基线比较 Baseline comparison"
NO_EVAL_RUN = "✗ 还没有评测结果。 No eval run yet under the data folder."
NO_REPORT = "没有 eval.report 模块：只显示摘要。 eval.report is not available: summary only."
EVAL_METRIC = "指标 metric"
EVAL_ALL = "全部 all"


def eval_interval(confidence: float) -> str:
    return f"{round(100 * confidence)}% 置信区间 CI"


def eval_caption(dataset: str, questions: object, date: str | None, p50: object, p95: object) -> str:
    caption = f"{dataset}: {questions} 题 questions"
    if date:
        caption += f" · {date}"
    if p50 is not None:
        caption += f" · 延迟 latency p50 {p50} ms, p95 {p95} ms"
    return caption


def no_baseline(dataset: str, known: tuple[str, ...]) -> str:
    return (
        f"没有基线可比：基线只有 {', '.join(known)}，这次运行的是 {dataset!r}。"
        f" No baseline comparison: baselines exist for {', '.join(known)}, this run is {dataset!r}."
    )
