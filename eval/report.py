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
        _questions_section(results, comparison),
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
    cards = [
        ("questions", str(metrics.get("n", "—"))),
        ("pass rate", _fmt(metrics.get("pass_rate"))),
        ("answer correct", _fmt(metrics.get("answer_correct"))),
        ("hit@5", _fmt(metrics.get("hit@5"))),
        ("citation precision", _fmt(metrics.get("citation_precision"))),
        ("faithfulness", _fmt(faith) if isinstance(faith, float | int) else "—"),
        ("latency p50", f"{_e(latency.get('p50_ms', '—'))} ms"),
    ]
    source = f" · source <code>{_e(summary['source'])}</code>" if summary.get("source") else ""
    return (
        f"<h1>Eval report: {_e(summary.get('dataset', 'run'))}</h1><p class=meta>{meta}{source}</p>"
        '<div class="cards">'
        + "".join(f"<div class=card><b>{value}</b><span>{_e(label)}</span></div>" for label, value in cards)
        + "</div>"
    )


def _summary_section(summary: dict) -> str:
    langs = list(summary.get("by_lang", {}))
    blocks = [summary.get("metrics", {})] + [summary["by_lang"][lang] for lang in langs]
    head = "".join(f"<th class=num>{_e(c)}</th>" for c in ["all", *langs])
    rows = []
    for name in SUMMARY_ROWS:
        cells = "".join(f"<td class=num>{_fmt(b.get(name))}</td>" for b in blocks)
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
        status = (
            "<b class=no>REGRESSED</b>"
            if row.get("regressed")
            else ("ok" if row.get("tolerance") is not None else "<span class=small>not gated</span>")
        )
        rows.append(
            f"<tr{' class=regressed' if row.get('regressed') else ''}><td>{_e(row['metric'])}</td>"
            f"<td class=num>{_fmt(row.get('baseline'))}</td><td class=num>{_fmt(row.get('now'))}</td>"
            f"<td class=num><span{css}>{'—' if delta is None else f'{delta:+.3f}'}</span></td>"
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
    return (
        "<h2>Baseline comparison</h2>"
        + banner
        + (f"<p class=meta>baseline {about}</p>" if about else "")
        + "<div class=side><table><thead><tr><th>metric</th><th class=num>baseline</th><th class=num>now</th>"
        "<th class=num>delta</th><th class=num>tolerance</th><th>status</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><div class=flips>"
        + "".join(lists)
        + "</div></div>"
    )


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


def _questions_section(results: list[dict], comparison: dict | None) -> str:
    failing = set((comparison or {}).get("now_failing", []))
    passing = set((comparison or {}).get("now_passing", []))
    langs = sorted({r["lang"] for r in results})
    rows = []
    for r in results:
        flip = "down" if r["id"] in failing else "up" if r["id"] in passing else ""
        rows.append(
            f'<tr id="q-{_e(r["id"])}" data-status="{"pass" if r["passed"] else "fail"}" '
            f'data-lang="{_e(r["lang"])}" data-flip="{flip}">'
            f"<td>{_e(r['id'])}{_flip_badge(flip)}</td><td>{_e(r['lang'])}</td>"
            f"<td>{_question_cell(r)}</td><td>{_answer_cell(r)}</td><td>{_citations_cell(r)}</td>"
            f"<td>{_retrieval_cell(r)}</td><td>{_result_cell(r)}</td></tr>"
        )
    options = "".join(f'<option value="{_e(lang)}">{_e(lang)}</option>' for lang in langs)
    flipped = '<option value="flipped">flipped vs baseline</option>' if failing or passing else ""
    return (
        "<h2>Questions</h2><div class=controls>"
        '<input id="filter-text" type="search" placeholder="Filter: words in the question, answer, ids…">'
        '<select id="filter-status"><option value="all">pass and fail</option><option value="pass">pass'
        f'</option><option value="fail">fail</option>{flipped}</select>'
        f'<select id="filter-lang"><option value="all">all languages</option>{options}</select>'
        '<span id="filter-count"></span></div>'
        '<table id="questions"><thead><tr><th>id</th><th>lang</th><th>question</th><th>answer</th>'
        "<th>citations</th><th>retrieval</th><th>result</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _flip_badge(flip: str) -> str:
    if not flip:
        return ""
    text = "pass → fail" if flip == "down" else "fail → pass"
    return f"<br><span class='pill flip'>{text}</span>"


def _question_cell(r: dict) -> str:
    tags = list(dict.fromkeys(([] if r.get("answerable", True) else ["unanswerable"]) + r.get("tags", [])))
    badges = " ".join(f"<span class='pill tag'>{_e(t)}</span>" for t in tags)
    return f"{_e(r['question'])}<br>{badges}" if badges else _e(r["question"])


def _answer_cell(r: dict) -> str:
    parts = [f"<div class=clip>{_e(r.get('answer', ''))}</div>"]
    if r.get("support") is not None:
        parts.append(f"<div class=small>support {_fmt(r['support'])}</div>")
    if r.get("answerability") is not None:
        parts.append(f"<div class=small>answerability {_fmt(r['answerability'])}</div>")
    notes = r.get("verification_notes") or []
    if notes:
        parts.append("<ul class='plain small'>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    judged = r.get("judged") or []
    if judged:
        verdicts = "".join(
            f"<li class={'ok' if j.get('supported') else 'no'}>"
            f"{'✓' if j.get('supported') else '✗' if j.get('supported') is False else '?'} {_e(j['sentence'])}</li>"
            for j in judged
        )
        parts.append(f"<div class=small>judge: faithfulness {_fmt(r['metrics'].get('faithfulness'))}</div>")
        parts.append(f"<ul class='plain small'>{verdicts}</ul>")
    if r.get("judge_error"):
        parts.append(f"<div class=small>judge: {_e(r['judge_error'])}</div>")
    return "".join(parts)


def _citation_items(citations: list[dict]) -> str:
    items = []
    for c in citations:
        mark = (
            "<span class=ok>✓ evidence</span>" if c.get("relevant") else "<span class=no>✗ no evidence</span>"
        )
        where = f" · chars {_e(c['doc_start'])}–{_e(c['doc_end'])}" if "doc_start" in c else ""
        span = c.get("span", "")
        short = span if len(span) <= 280 else span[:280] + "…"
        items.append(
            f"<li>[{_e(c['n'])}] <span class=doc>{_e(c['doc_id'])}{where}</span> {mark}<br>"
            f"{_highlighted(short, c.get('highlights') or [])}</li>"
        )
    return "".join(items)


def _highlighted(text: str, highlights: list[str]) -> str:
    """``text`` escaped, with the answer spans the answer singled out in <mark>."""
    html = _e(text)
    for piece in highlights:
        escaped = _e(piece)
        if escaped and escaped in html:
            html = html.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return html


def _citations_cell(r: dict) -> str:
    citations = r.get("citations", [])
    html = (
        f"<ul class=cites>{_citation_items(citations)}</ul>" if citations else "<span class=small>none</span>"
    )
    before = r.get("unverified_citations")
    if before is not None and len(before) != len(citations):
        html += (
            f"<details><summary class=small>before verification: {len(before)}</summary>"
            f"<ul class=cites>{_citation_items(before)}</ul></details>"
        )
    return html


def _retrieval_cell(r: dict) -> str:
    retrieved = r.get("retrieved", [])
    if not r.get("answerable", True):
        return f"<span class=small>{len(retrieved)} passages (unanswerable)</span>"
    rank = next((i for i, p in enumerate(retrieved, start=1) if p.get("relevant")), None)
    text = f"evidence at rank {rank}" if rank else f"no evidence in top {len(retrieved)}"
    return f"<span class={'ok' if rank and rank <= 5 else 'no'}>{_e(text)}</span>"


def _result_cell(r: dict) -> str:
    pill = "<span class='pill pass'>pass</span>" if r["passed"] else "<span class='pill fail'>fail</span>"
    failures = "".join(f"<li>{_e(f)}</li>" for f in r.get("failures", []))
    return pill + (f"<ul class='plain small'>{failures}</ul>" if failures else "")
