"""One self-contained HTML page per eval run: summary, baseline comparison, SVG charts, and a
searchable per-question table. Inline CSS/JS/SVG only (it opens from disk). The page is
``templates/report.html``, rendered by Jinja2 with autoescape: all text from the run is escaped."""

from __future__ import annotations

import json
from pathlib import Path

from markupsafe import Markup

from eval import svg
from eval.gate import Comparison
from eval.report_assets import SCRIPT, STYLE
from eval.report_questions import environment, questions_section
from eval.runner import METRIC_KEYS

REPORT_FILE = "report.html"
COMPARISON_FILE = "comparison.json"
CHART_METRICS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "answer_correct",
    "citation_precision",
    "citation_recall",
    "abstention_correct",
    "pass_rate",
)
HIT_KS = (1, 3, 5, 10)
LANG_COLORS = {
    "all": svg.PALETTE[0],
    "en": svg.PALETTE[1],
    "zh-Hans": svg.PALETTE[2],
    "zh-Hant": svg.PALETTE[3],
}
DESCRIPTIONS = {
    "hit@1": "evidence in the first retrieved passage",
    "hit@3": "evidence in the top 3 passages",
    "hit@5": "evidence in the top 5 passages",
    "hit@10": "evidence in the top 10 passages",
    "mrr@10": "mean reciprocal rank of the first passage with evidence",
    "ndcg@10": "binary-relevance nDCG over the top 10",
    "answer_correct": "answer holds every gold answer group (answerable questions)",
    "exact_match": "cited span equals a gold span (SQuAD sets)",
    "token_f1": "token F1 of cited span vs gold spans (SQuAD sets)",
    "citation_precision": "share of citations whose passage holds evidence",
    "citation_recall": "at least one citation holds evidence (answerable questions)",
    "citation_precision_unverified": "citation precision before citation verification",
    "support": "verifier's share of cited sentences supported",
    "faithfulness": "LLM judge's share of answer sentences supported",
    "abstention_correct": "abstained exactly when the question is unanswerable",
    "false_abstention": "abstained on an answerable question (lower is better)",
    "unanswerable_abstention": "abstained on unanswerable questions",
    "pass_rate": "questions passing every check",
    "coverage": "answered, among answerable questions",
    "selective_accuracy": "answer correct, among answerable questions answered",
    "answer_span": "highlighted answer spans match the gold answer (answered questions)",
}
SUMMARY_ROWS = (*METRIC_KEYS, "unanswerable_abstention", "pass_rate")


def render_report(summary: dict, results: list[dict], comparison: dict | Comparison | None = None) -> str:
    """The whole page for one run (``summary.json`` and the rows of ``results.jsonl``)."""
    if isinstance(comparison, Comparison):
        comparison = comparison.to_dict()
    run = summary.get("run", {})
    config, versions = run.get("config", {}), run.get("versions", {})
    facts = [
        ("date", run.get("date")),
        ("code", versions.get("code")),
        ("generator", versions.get("generator")),
        ("prompt", versions.get("prompt")),
        ("embedding", versions.get("embedding_model")),
        ("judge", versions.get("judge")),
        ("mode", config.get("retrieval_mode")),
        ("top_k", config.get("top_k")),
        ("chunk_size", config.get("chunk_size")),
        ("collection", config.get("collection")),
        ("abstain_below", run.get("abstain_below")),
    ]
    langs = list(summary.get("by_lang", {}))
    intervals = summary.get("intervals") or {}
    blocks = [summary.get("metrics", {})] + [summary["by_lang"][lang] for lang in langs]
    ci_blocks = [intervals.get("metrics", {})] + [
        intervals.get("by_lang", {}).get(lang, {}) for lang in langs
    ]
    if comparison:
        about = [(k, v) for k, v in (comparison.get("baseline") or {}).items() if v]
        comparison = comparison | {"baseline": dict(about)}
    page = (
        environment()
        .get_template("report.html")
        .render(
            summary=summary,
            dataset=summary.get("dataset", "run"),
            facts=[(k, v) for k, v in facts if v not in (None, "")],
            metrics=summary.get("metrics", {}),
            found=intervals.get("metrics", {}),
            intervals=summary.get("intervals"),
            faith=summary.get("faithfulness"),
            latency=summary.get("latency", {}).get("total", {}),
            comparison=comparison,
            by_id={r["id"]: r for r in results},
            figures=_figures(summary, results),
            langs=langs,
            columns=list(zip(blocks, ci_blocks, strict=True)),
            summary_rows=_summary_rows(summary),
            descriptions=DESCRIPTIONS,
            questions=Markup(questions_section(results, comparison)),
            style=Markup(STYLE),
            script=Markup(SCRIPT),
        )
    )
    return page + "\n"


def write_report(run_dir: Path, comparison: dict | Comparison | None = None) -> Path:
    """Read ``results.jsonl``/``summary.json`` in ``run_dir`` and write ``report.html`` beside them.
    Without ``comparison``, a ``comparison.json`` in the folder is used when present."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    lines = (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    results = [json.loads(line) for line in lines if line.strip()]
    if comparison is None and (run_dir / COMPARISON_FILE).is_file():
        comparison = json.loads((run_dir / COMPARISON_FILE).read_text(encoding="utf-8"))
    target = run_dir / REPORT_FILE
    target.write_text(render_report(summary, results, comparison), encoding="utf-8")
    return target


def _summary_rows(summary: dict) -> list[str]:
    """The known metrics in their order, then any other metric the run recorded."""
    known = list(SUMMARY_ROWS)
    extra = [k for k in summary.get("metrics", {}) if k not in known and k != "n"]
    return known + extra


def _figures(summary: dict, results: list[dict]) -> list[tuple[Markup, str, str]]:
    """The four SVG charts, each with its CSS class and caption."""
    langs = list(summary.get("by_lang", {}))
    blocks = {"all": summary.get("metrics", {})} | {lang: summary["by_lang"][lang] for lang in langs}
    bars = svg.grouped_bars(
        list(CHART_METRICS),
        {name: [b.get(k) for k in CHART_METRICS] for name, b in blocks.items()},
        title="Metrics by language",
        y_max=1.0,
        width=900,
        height=320,
        rotate_labels=True,
        colors=LANG_COLORS,
    )
    curve = svg.line_chart(
        list(HIT_KS),
        {name: [b.get(f"hit@{k}") for k in HIT_KS] for name, b in blocks.items()},
        title="hit@k (answerable questions)",
        x_label="k (passages retrieved)",
        width=440,
        height=320,
        colors=LANG_COLORS,
    )
    totals = [r["timings"]["total"] * 1000 for r in results if "total" in r.get("timings", {})]
    total = summary.get("latency", {}).get("total", {})
    markers = {k: total[f"{k}_ms"] for k in ("p50", "p95") if total.get(f"{k}_ms") is not None}
    hist = svg.histogram(
        totals,
        title="Latency per question (total)",
        x_label="milliseconds",
        markers=markers,
        width=900,
        height=360,
    )
    reasons = sorted({f for r in results for f in r.get("failures", [])})
    failures = svg.grouped_bars(
        reasons or ["none"],
        {name: _failure_counts(results, reasons, name) for name in ["all", *langs]},
        title="Failures by reason (questions)",
        width=440,
        height=420,
        rotate_labels=True,
        colors=LANG_COLORS,
    )
    return [
        (
            Markup(bars),
            "wide",
            "Means over each language's questions (all: every question); hover a bar for its value.",
        ),
        (Markup(curve), "", "Share of answerable questions with evidence in the top k."),
        (Markup(hist), "wide", f"{len(totals)} questions; retrieval and generation together."),
        (Markup(failures), "", "A question can fail for several reasons."),
    ]


def _failure_counts(results: list[dict], reasons: list[str], lang: str) -> list[float | None]:
    rows = [r for r in results if lang in ("all", r["lang"])]
    return [float(sum(1 for r in rows if f in r.get("failures", []))) for f in reasons] or [0.0]
