"""The searchable per-question table of the eval report (one row per question: answer, citations,
retrieval, result, and whether it flipped against the baseline). All text is escaped."""

from __future__ import annotations

from html import escape
from typing import Any


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


def questions_section(results: list[dict], comparison: dict | None) -> str:
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
