"""One self-contained HTML page per eval run: summary, baseline comparison, SVG charts, and a
searchable per-question table. Inline CSS/JS/SVG only (it opens from disk); all text is escaped."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from eval import svg
from eval.gate import Comparison
from eval.report_assets import SCRIPT, STYLE
from eval.report_questions import questions_section
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
    title = f"Eval report: {summary.get('dataset', 'run')}"
    body = [
        _header(summary),
        _comparison_section(comparison, results) if comparison else "",
        _charts_section(summary, results),
        _summary_section(summary),
        _repeat_section(summary),
        questions_section(results, comparison),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body><main>"
        + "".join(body)
        + f"</main><script>{SCRIPT}</script></body></html>\n"
    )


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


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        return f"{value:.{digits}f}"
    return _e(value)


def _header(summary: dict) -> str:
    run = summary.get("run", {})
    config, versions = run.get("config", {}), run.get("versions", {})
    metrics = summary.get("metrics", {})
    latency = summary.get("latency", {}).get("total", {})
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
    meta = " · ".join(f"{_e(k)} <code>{_e(v)}</code>" for k, v in facts if v not in (None, ""))
    faith = summary.get("faithfulness")
    found = summary.get("intervals", {}).get("metrics", {})

    def card(name: str) -> str:
        ci = found.get(name)
        return _fmt(metrics.get(name)) + (f"<i>{_ci(ci)}</i>" if ci else "")

    cards = [
        ("questions", str(metrics.get("n", "—"))),
        ("pass rate", card("pass_rate")),
        ("answer correct", card("answer_correct")),
        ("hit@5", card("hit@5")),
        ("citation precision", card("citation_precision")),
        ("faithfulness", _fmt(faith) if isinstance(faith, float | int) else "—"),
        ("latency p50", f"{_e(latency.get('p50_ms', '—'))} ms"),
    ]
    source = f" · source <code>{_e(summary['source'])}</code>" if summary.get("source") else ""
    return (
        f"<h1>Eval report: {_e(summary.get('dataset', 'run'))}</h1><p class=meta>{meta}{source}</p>"
        '<div class="cards">'
        + "".join(f"<div class=card><b>{value}</b><span>{_e(label)}</span></div>" for label, value in cards)
        + "</div>"
        + _intervals_note(summary)
    )


def _ci(ci: list[float] | tuple[float, float]) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _intervals_note(summary: dict) -> str:
    found = summary.get("intervals")
    if not found:
        return ""
    return (
        f"<p class=small>Brackets: {round(100 * found.get('confidence', 0.95))}% bootstrap confidence "
        f"intervals over questions ({_e(found.get('resamples'))} resamples, seed {_e(found.get('seed'))}).</p>"
    )


def _summary_section(summary: dict) -> str:
    langs = list(summary.get("by_lang", {}))
    blocks = [summary.get("metrics", {})] + [summary["by_lang"][lang] for lang in langs]
    head = "".join(f"<th class=num>{_e(c)}</th>" for c in ["all", *langs])
    found = summary.get("intervals", {})
    ci_blocks = [found.get("metrics", {})] + [found.get("by_lang", {}).get(lang, {}) for lang in langs]
    rows = []
    for name in _summary_rows(summary):
        cells = "".join(
            f"<td class=num>{_fmt(b.get(name))}"
            + (f"<br><span class=ci>{_ci(c[name])}</span>" if c.get(name) else "")
            + "</td>"
            for b, c in zip(blocks, ci_blocks, strict=True)
        )
        rows.append(
            f"<tr><td>{_e(name)}</td>{cells}<td class=desc>{_e(DESCRIPTIONS.get(name, ''))}</td></tr>"
        )
    counts = "".join(f"<td class=num>{_e(b.get('n', '—'))}</td>" for b in blocks)
    rows.append(f"<tr><td>questions</td>{counts}<td></td></tr>")
    faith = summary.get("faithfulness")
    note = _fmt(faith) if isinstance(faith, float | int) else _e(faith or "—")
    latency_rows = "".join(
        f"<tr><td>{_e(stage)}</td><td class=num>{_fmt(v.get('p50_ms'), 1)}</td>"
        f"<td class=num>{_fmt(v.get('p95_ms'), 1)}</td></tr>"
        for stage, v in summary.get("latency", {}).items()
    )
    return (
        "<h2>Summary</h2><div class=side><div><table><thead><tr><th>metric</th>"
        + head
        + "<th>meaning</th></tr></thead><tbody>"
        + "".join(rows)
        + f"</tbody></table><p><b>Faithfulness:</b> {note}</p></div>"
        "<div><table><thead><tr><th>latency stage</th><th class=num>p50 ms</th><th class=num>p95 ms</th>"
        f"</tr></thead><tbody>{latency_rows}</tbody></table></div></div>"
    )


def _summary_rows(summary: dict) -> list[str]:
    """The known metrics in their order, then any other metric the run recorded."""
    known = list(SUMMARY_ROWS)
    extra = [k for k in summary.get("metrics", {}) if k not in known and k != "n"]
    return known + extra


def _repeat_section(summary: dict) -> str:
    repeat = summary.get("repeat")
    if not repeat:
        return ""
    rows = "".join(
        f"<tr><td>{_e(name)}</td>"
        + "".join(f"<td class=num>{_fmt(v.get(k))}</td>" for k in ("mean", "sd", "min", "max"))
        + "</tr>"
        for name, v in repeat.get("metrics", {}).items()
    )
    unstable = repeat.get("unstable", {})
    items = "".join(
        f'<li><a href="#q-{_e(q)}">{_e(q)}</a> {_e(" ".join("pass" if ok else "fail" for ok in passed))}</li>'
        for q, passed in unstable.items()
    )
    return (
        f"<h2>Spread over {_e(repeat.get('n'))} repeats</h2><div class=side><table><thead><tr>"
        "<th>metric</th><th class=num>mean</th><th class=num>sd</th><th class=num>min</th>"
        f"<th class=num>max</th></tr></thead><tbody>{rows}</tbody></table><div class=flips>"
        f"<h3>Pass/fail changed between repeats: {len(unstable)}</h3>"
        + (f"<ul class=plain>{items}</ul>" if items else "")
        + "</div></div><p class=small>Per question, the metrics above the spread are averaged over the "
        "repeats and a question passes when most repeats pass.</p>"
    )


def _comparison_section(comparison: dict, results: list[dict]) -> str:
    regressed = comparison.get("regressed")
    banner = (
        '<div class="banner bad">REGRESSION: the gate fails</div>'
        if regressed
        else '<div class="banner good">No regression beyond tolerances</div>'
    )
    source = comparison.get("baseline") or {}
    about = " · ".join(f"{_e(k)} <code>{_e(v)}</code>" for k, v in source.items() if v)
    rows = []
    for row in comparison.get("rows", []):
        delta = row.get("delta")
        css = "" if delta is None or abs(delta) < 1e-9 else (" class=up" if delta > 0 else " class=down")
        if row.get("regressed"):
            status = "<b class=no>REGRESSED</b>"
        elif row.get("beyond_tolerance"):
            status = f"<span class=small>{_e(row.get('status', 'drop not significant'))}</span>"
        else:
            status = "ok" if row.get("tolerance") is not None else "<span class=small>not gated</span>"
        paired = row.get("paired") or {}
        ci = _signed_ci(paired["ci"]) if paired.get("ci") else "—"
        tested = paired.get("test") not in (None, "none needed")
        p_value = f"{paired['p_value']:.3f}" if tested else "—"
        test = _e(paired.get("test", "—")) if paired else "—"
        rows.append(
            f"<tr{' class=regressed' if row.get('regressed') else ''}><td>{_e(row['metric'])}</td>"
            f"<td class=num>{_fmt(row.get('baseline'))}</td><td class=num>{_fmt(row.get('now'))}</td>"
            f"<td class=num><span{css}>{'—' if delta is None else f'{delta:+.3f}'}</span></td>"
            f"<td class=num>{ci}</td><td class=num>{p_value}</td><td class=small>{test}</td>"
            f"<td class=num>{_fmt(row.get('tolerance'), 2)}</td><td>{status}</td></tr>"
        )
    by_id = {r["id"]: r for r in results}
    lists = []
    for key, heading in (
        ("now_failing", "Now failing (passed in the baseline)"),
        ("now_passing", "Now passing (failed in the baseline)"),
    ):
        ids = comparison.get(key, [])
        items = "".join(
            f'<li><a href="#q-{_e(q)}">{_e(q)}</a> {_e(by_id.get(q, {}).get("question", ""))}'
            f" <span class=small>{_e('; '.join(by_id.get(q, {}).get('failures', [])))}</span></li>"
            for q in ids
        )
        lists.append(f"<h3>{_e(heading)}: {len(ids)}</h3>" + (f"<ul class=plain>{items}</ul>" if ids else ""))
    paired = comparison.get("paired_questions")
    how = (
        f"<p class=small>Paired over {_e(paired)} questions: a drop beyond tolerance regresses only when "
        f"its one-sided p is below {_e(comparison.get('alpha'))} (McNemar's exact test for pass/fail "
        "metrics, paired bootstrap otherwise).</p>"
        if paired is not None
        else "<p class=small>The baseline has no per-question values: compared on tolerances alone, "
        "without significance tests.</p>"
    )
    return (
        "<h2>Baseline comparison</h2>"
        + banner
        + (f"<p class=meta>baseline {about}</p>" if about else "")
        + how
        + "<div class=side><table><thead><tr><th>metric</th><th class=num>baseline</th><th class=num>now</th>"
        "<th class=num>delta</th><th class=num>CI of delta</th><th class=num>p</th><th>test</th>"
        "<th class=num>tolerance</th><th>status</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><div class=flips>"
        + "".join(lists)
        + "</div></div>"
    )


def _signed_ci(ci: list[float]) -> str:
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _charts_section(summary: dict, results: list[dict]) -> str:
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
    figures = [
        (
            bars,
            "wide",
            "Means over each language's questions (all: every question); hover a bar for its value.",
        ),
        (curve, "", "Share of answerable questions with evidence in the top k."),
        (hist, "wide", f"{len(totals)} questions; retrieval and generation together."),
        (failures, "", "A question can fail for several reasons."),
    ]
    return (
        "<h2>Charts</h2><div class=charts>"
        + "".join(
            f'<figure class="{css}">{chart}<figcaption>{_e(caption)}</figcaption></figure>'
            for chart, css, caption in figures
        )
        + "</div>"
    )


def _failure_counts(results: list[dict], reasons: list[str], lang: str) -> list[float | None]:
    rows = [r for r in results if lang in ("all", r["lang"])]
    return [float(sum(1 for r in rows if f in r.get("failures", []))) for f in reasons] or [0.0]
