"""Pure rendering helpers: answers, citations and passages to HTML. No gradio here.

Everything taken from documents or users is escaped; the output never contains a newline, so the
chat's Markdown renderer treats a rendered message as one raw HTML block and leaves it alone.
Clicks on ``a.cite`` markers are handled by the page script in :mod:`ui.theme` (it reads the
``#cite-<turn>-<n>`` fragment, shows that turn's sources and highlights the cited span).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.types import Answer, Citation, Passage

MARKER = re.compile(r"\[(\d{1,3})\]")
CLOSEST_SHOWN = 3  # passages shown open under an abstention; the rest are folded


@dataclass(frozen=True)
class Labels:
    cited: str
    other: str
    closest: str
    abstained: str
    details: str
    rewritten: str
    support: str
    notes: str
    retrieval: str
    timings: str
    no_sources: str


ZH = Labels(
    cited="引用的段落",
    other="其他检索到的段落",
    closest="文档中没有答案，以下是最接近的段落",
    abstained="未找到答案",
    details="详情",
    rewritten="改写后的问题",
    support="引用支持率",
    notes="核验说明",
    retrieval="检索",
    timings="耗时",
    no_sources="没有检索到段落",
)
EN = Labels(
    cited="Cited passages",
    other="Other retrieved passages",
    closest="The documents do not answer this; the closest passages",
    abstained="Not found in the documents",
    details="Details",
    rewritten="Rewritten question",
    support="Citation support",
    notes="Verification notes",
    retrieval="Retrieval",
    timings="Timings",
    no_sources="No passages retrieved",
)


def labels_for(language: str) -> Labels:
    return EN if language.startswith("en") else ZH


def esc(text: object) -> str:
    """Escape for HTML text and attribute values; line breaks become spaces."""
    value = "" if text is None else str(text)
    return html.escape(" ".join(value.splitlines()) if "\n" in value or "\r" in value else value, quote=True)


def text_html(text: str) -> str:
    """Escaped text with line breaks as ``<br>`` (no newline survives)."""
    return "<br>".join(esc(line) for line in text.replace("\r\n", "\n").split("\n"))


def linkify_markers(escaped: str, turn: int, known: set[int] | None = None) -> str:
    """Turn ``[n]`` in already-escaped text into footnote links; with ``known``, only those n."""

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if known is not None and n not in known:
            return match.group(0)
        return f'<a class="cite" href="#cite-{turn}-{n}" data-turn="{turn}" data-n="{n}"><sup>[{n}]</sup></a>'

    return MARKER.sub(link, escaped)


def render_question(text: str) -> str:
    return f'<div class="msg-question">{text_html(text)}</div>'


def render_partial(text: str, turn: int) -> str:
    """An answer still streaming: markers are linked, a cursor shows it is not finished."""
    body = linkify_markers(text_html(text), turn) if text else ""
    return f'<div class="msg-answer streaming">{body}<span class="cursor"></span></div>'


def render_error(message: str) -> str:
    return f'<div class="msg-error" role="alert">⚠ {esc(message)}</div>'


def render_answer(answer: Answer, turn: int, *, settings_line: str = "") -> str:
    """The finished answer: text with footnote markers, a footnote list, and folded details."""
    labels = labels_for(answer.language)
    known = {c.n for c in answer.citations}
    body = linkify_markers(text_html(answer.text), turn, known)
    parts = ['<div class="msg-answer' + (' abstained">' if answer.abstained else '">')]
    if answer.abstained:
        parts.append(f'<span class="badge badge-abstained">{esc(labels.abstained)}</span>')
    parts.append(f'<div class="answer-text">{body}</div>')
    if answer.citations:
        parts.append(_footnotes(answer.citations, turn))
    parts.append(_details(answer, labels, settings_line))
    parts.append("</div>")
    return "".join(parts)


def _footnotes(citations: Sequence[Citation], turn: int) -> str:
    items = []
    for c in sorted(citations, key=lambda c: c.n):
        where = " · ".join(esc(x) for x in (c.title or c.doc_id, c.date) if x)
        items.append(
            f'<li><a class="cite" href="#cite-{turn}-{c.n}" data-turn="{turn}" data-n="{c.n}">'
            f"[{c.n}]</a> {where}</li>"
        )
    return f'<ol class="footnotes">{"".join(items)}</ol>'


def _details(answer: Answer, labels: Labels, settings_line: str) -> str:
    rows = []
    if answer.rewritten_question:
        rows.append((labels.rewritten, esc(answer.rewritten_question)))
    if answer.support is not None:
        rows.append((labels.support, f"{answer.support:.0%}"))
    if answer.verification_notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in answer.verification_notes)
        rows.append((labels.notes, f"<ul>{notes}</ul>"))
    if settings_line:
        rows.append((labels.retrieval, esc(settings_line)))
    if answer.timings:
        shown = ("retrieve", "generate", "total")
        times = ", ".join(f"{k} {answer.timings[k] * 1000:.0f} ms" for k in shown if k in answer.timings)
        rows.append((labels.timings, esc(times)))
    if not rows:
        return ""
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    # Rewriting, support and notes change how far the answer can be trusted: show them open.
    opened = " open" if answer.rewritten_question or answer.verification_notes else ""
    return f'<details class="answer-details"{opened}><summary>{esc(labels.details)}</summary><dl>{cells}</dl></details>'


def highlight(text: str, spans: Sequence[tuple[int, int, int]]) -> str:
    """``text`` escaped, with each ``(start, end, n)`` span wrapped in ``<mark data-n>``;
    overlapping spans share a mark listing all their numbers."""
    size = len(text)
    clean = [(max(0, s), min(size, e), n) for s, e, n in spans if min(size, e) > max(0, s)]
    bounds = sorted({0, size, *(s for s, _, _ in clean), *(e for _, e, _ in clean)})
    out = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = text_html(text[start:end])
        ns = sorted({n for s, e, n in clean if s <= start and end <= e})
        if ns:
            numbers = " ".join(str(n) for n in ns)
            out.append(f'<mark class="cited-span" data-n="{numbers}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def passage_card(
    passage: Passage, *, spans: Sequence[tuple[int, int, int]] = (), rank: int | None = None
) -> str:
    """One source card: title, date, number, section, the passage with its cited spans marked."""
    numbers = sorted({n for _, _, n in spans})
    badges = "".join(f'<span class="badge badge-n">[{n}]</span>' for n in numbers)
    if rank is not None and not numbers:
        badges = f'<span class="badge badge-rank">#{rank}</span>'
    meta = [x for x in (passage.date, passage.doc_number) if x]
    meta_html = "".join(f'<span class="meta-item">{esc(x)}</span>' for x in meta)
    section = f'<div class="card-section">{esc(passage.section)}</div>' if passage.section else ""
    data_n = " ".join(str(n) for n in numbers)
    return (
        f'<article class="source-card{" cited" if numbers else ""}" data-doc-id="{esc(passage.doc_id)}" '
        f'data-chunk-id="{esc(passage.chunk_id)}" data-n="{data_n}">'
        f'<header class="card-head">{badges}<span class="card-title">{esc(passage.title or passage.doc_id)}</span></header>'
        f'<div class="card-meta">{meta_html}<span class="meta-item doc-id">{esc(passage.doc_id)}</span></div>'
        f"{section}"
        f'<div class="card-text">{highlight(passage.text, spans)}</div>'
        "</article>"
    )


def citation_passages(answer: Answer) -> list[tuple[Passage, list[tuple[int, int, int]]]]:
    """Cited passages in order of first citation, each with its ``(start, end, n)`` spans."""
    by_chunk = {p.chunk_id: p for p in answer.passages}
    grouped: dict[str, tuple[Passage, list[tuple[int, int, int]]]] = {}
    for c in sorted(answer.citations, key=lambda c: c.n):
        if c.chunk_id not in grouped:
            known = by_chunk.get(c.chunk_id)
            passage = known if known is not None and known.text == c.passage else _passage_of(c, known)
            grouped[c.chunk_id] = (passage, [])
        grouped[c.chunk_id][1].append((c.span_start, c.span_end, c.n))
    return list(grouped.values())


def _passage_of(c: Citation, known: Passage | None) -> Passage:
    return Passage(
        chunk_id=c.chunk_id,
        doc_id=c.doc_id,
        text=c.passage,
        start=0,
        end=len(c.passage),
        section=c.section,
        title=c.title,
        date=c.date,
        doc_number=known.doc_number if known else None,
    )


def render_sources(answer: Answer, turn: int, *, active: bool = False) -> str:
    """The sources of one answer: cited passages, then the other retrieved ones folded."""
    labels = labels_for(answer.language)
    head = f'<div class="turn-head"><span class="turn-no">#{turn}</span> {esc(answer.question)}</div>'
    parts = [
        f'<section class="turn-sources{" active" if active else ""}" id="sources-{turn}" data-turn="{turn}">',
        head,
    ]
    cited = citation_passages(answer)
    cited_ids = {p.chunk_id for p, _ in cited}
    rest = [p for p in answer.passages if p.chunk_id not in cited_ids]
    if answer.abstained:
        parts.append(f'<h4 class="sources-title abstained">{esc(labels.closest)}</h4>')
        parts += [passage_card(p, rank=i) for i, p in enumerate(rest[:CLOSEST_SHOWN], start=1)]
        rest = rest[CLOSEST_SHOWN:]
        offset = CLOSEST_SHOWN
    else:
        parts.append(f'<h4 class="sources-title">{esc(labels.cited)}</h4>')
        parts += [passage_card(p, spans=spans) for p, spans in cited]
        offset = 0
    if not answer.passages:
        parts.append(f'<p class="empty">{esc(labels.no_sources)}</p>')
    if rest:
        cards = "".join(passage_card(p, rank=offset + i) for i, p in enumerate(rest, start=1))
        parts.append(
            f'<details class="other-sources"><summary>{esc(labels.other)} ({len(rest)})</summary>{cards}</details>'
        )
    parts.append("</section>")
    return "".join(parts)


def render_sources_panel(sections: Sequence[str], *, placeholder: str) -> str:
    """All turns' sources, rendered inactive; the latest is made active (the page's CSS shows the
    active one, and a click on a marker of an earlier answer makes that turn's section active)."""
    if not sections:
        return f'<div class="sources-panel"><div class="sources-empty">{placeholder}</div></div>'
    latest = sections[-1].replace('class="turn-sources"', 'class="turn-sources active"', 1)
    return f'<div class="sources-panel">{"".join(sections[:-1])}{latest}</div>'
