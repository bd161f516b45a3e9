"""The sources panel: one answer's passages (the selected answer only, so a long conversation's
panel is as small as a short one's), cited spans highlighted, the answer's own words inside them
marked more strongly; a refusal lists its closest passages as "title › section", once each.
No gradio here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import partial

from rag.tables import Cell, parse_row
from rag.types import Answer, Citation, Passage
from ui import strings
from ui.render import esc, text_html
from ui.strings import labels_for

CLOSEST_SHOWN = 3  # passages shown open under an abstention; the rest are folded
Span = tuple[int, int, int]  # (start, end, marker number) within a passage


def placeholder() -> str:
    return (
        '<div class="sources-panel"><div class="sources-empty">'
        f'<div class="placeholder-title">{esc(strings.SOURCES_TITLE)}</div>'
        f"<p>{esc(strings.SOURCES_HINT_ZH)}</p><p>{esc(strings.SOURCES_HINT_EN)}</p></div></div>"
    )


def where(title: str | None, section: str, fallback: str = "") -> str:
    """ "title › section › subsection" (the section path's own " > " shown the same way)."""
    parts = [title or fallback] + [s.strip() for s in section.split(">") if s.strip()]
    return " › ".join(p for p in parts if p)


def highlight(
    text: str,
    spans: Sequence[Span],
    strong: Sequence[tuple[int, int]] = (),
    doubtful: Sequence[tuple[int, int, float]] = (),
) -> str:
    """``text`` escaped; each run of text cited by the same markers is one ``<mark data-n>``,
    ``strong`` spans (the answer's own figures) are ``<strong>`` inside it, and ``doubtful`` spans
    (OCR lines of low confidence) are ``<span class="ocr-doubtful">``."""
    size = len(text)
    clean = [(max(0, s), min(size, e), n) for s, e, n in spans if min(size, e) > max(0, s)]
    bold = [(max(0, s), min(size, e)) for s, e in strong if min(size, e) > max(0, s)]
    unsure = [(max(0, s), min(size, e), c) for s, e, c in doubtful if min(size, e) > max(0, s)]
    bounds = sorted(
        {0, size, *(x for s, e, _ in clean + unsure for x in (s, e)), *(x for s, e in bold for x in (s, e))}
    )
    out: list[str] = []
    open_ns: tuple[int, ...] = ()
    for start, end in zip(bounds, bounds[1:], strict=False):
        ns = tuple(sorted({n for s, e, n in clean if s <= start and end <= e}))
        if ns != open_ns:
            if open_ns:
                out.append("</mark>")
            if ns:
                out.append(f'<mark class="cited-span" data-n="{" ".join(map(str, ns))}">')
            open_ns = ns
        piece = text_html(text[start:end])
        if ns and any(s <= start and end <= e for s, e in bold):
            piece = f'<strong class="answer-span">{piece}</strong>'
        low = [c for s, e, c in unsure if s <= start and end <= e]
        if low:
            label = esc(f"{strings.OCR_DOUBTFUL} {min(low):.2f}")
            piece = f'<span class="ocr-doubtful" title="{label}">{piece}</span>'
        out.append(piece)
    if open_ns:
        out.append("</mark>")
    return "".join(out)


def passage_html(
    text: str,
    spans: Sequence[Span] = (),
    strong: Sequence[tuple[int, int]] = (),
    doubtful: Sequence[tuple[int, int, float]] = (),
) -> str:
    """:func:`highlight` of the passage, with runs of table rows (``rag.tables``) drawn as tables:
    the header once, each row's values in cells, cited spans marked inside them."""

    def part(a: int, b: int) -> str:
        def shift(items):
            return [(s - a, e - a, *rest) for s, e, *rest in items]

        return highlight(text[a:b], shift(spans), shift(strong), shift(doubtful))

    out: list[str] = []
    cursor = 0
    for run in _table_runs(text):
        before_end = run[0][0]
        while before_end > cursor and text[before_end - 1].isspace():
            before_end -= 1
        if before_end > cursor:
            out.append(part(cursor, before_end))
        keys = [cell.key for cell in run[0][1]]
        head = "".join(f"<th>{esc(k)}</th>" for k in keys) if any(keys) else ""
        body = "".join(
            "<tr>" + "".join(f"<td>{part(at + c.start, at + c.end)}</td>" for c in cells) + "</tr>"
            for at, cells in run
        )
        out.append(
            f'<table class="passage-table">{f"<thead><tr>{head}</tr></thead>" if head else ""}'
            f"<tbody>{body}</tbody></table>"
        )
        cursor = run[-1][0] + run[-1][1][-1].end
        while cursor < len(text) and text[cursor].isspace():
            cursor += 1
    if cursor < len(text) or not out:
        out.append(part(cursor, len(text)))
    return "".join(out)


def _table_runs(text: str) -> list[list[tuple[int, list[Cell]]]]:
    """Consecutive row lines with the same headers: ``(line start, cells)`` per row."""
    runs: list[list[tuple[int, list[Cell]]]] = []
    last_end = -1
    for match in re.finditer(r"[^\n]+", text):
        cells = parse_row(match.group())
        if cells is None:
            last_end = -1
            continue
        keys = [c.key for c in cells]
        joined = runs and last_end >= 0 and not text[last_end : match.start()].strip()
        if joined and [c.key for c in runs[-1][0][1]] == keys:
            runs[-1].append((match.start(), cells))
        else:
            runs.append([(match.start(), cells)])
        last_end = match.end()
    return runs


def passage_card(
    passage: Passage,
    *,
    spans: Sequence[Span] = (),
    strong: Sequence[tuple[int, int]] = (),
    rank: int | None = None,
    read_label: str = strings.READ_DOCUMENT,
    titles: Mapping[str, str] | None = None,
) -> str:
    """One source card: title › section, date and number, the passage with its spans marked, and a
    button that opens the document at the cited span (or at the passage). ``titles``: document
    id -> title, so a superseded passage names the newer document by its title."""
    numbers = sorted({n for _, _, n in spans})
    badges = "".join(f'<span class="badge badge-n">[{n}]</span>' for n in numbers)
    if rank is not None and not numbers:
        badges = f'<span class="badge badge-rank">#{rank}</span>'
    meta = "".join(
        f'<span class="meta-item">{esc(x)}</span>'
        for x in (passage.issuer, passage.doc_type, passage.date, passage.doc_number)
        if x
    )
    if passage.superseded_by:
        meta += (
            f'<span class="meta-item superseded" data-newer="{esc(passage.superseded_by)}">'
            f"{esc(strings.SUPERSEDED)} {esc((titles or {}).get(passage.superseded_by) or passage.superseded_by)}</span>"
        )
    if passage.ocr_confidence is not None:
        meta += f'<span class="meta-item ocr-badge">{strings.OCR_BADGE} {passage.ocr_confidence:.2f}</span>'
    section = (
        f'<div class="card-section">{esc(where(None, passage.section))}</div>' if passage.section else ""
    )
    first = min(spans, default=None)
    start = passage.start + (first[0] if first else 0)
    end = passage.start + (first[1] if first else len(passage.text))
    return (
        f'<article class="source-card{" cited" if numbers else ""}" data-doc-id="{esc(passage.doc_id)}" '
        f'data-chunk-id="{esc(passage.chunk_id)}" data-n="{" ".join(map(str, numbers))}">'
        f'<header class="card-head">{badges}<span class="card-title">{esc(passage.title or passage.doc_id)}</span></header>'
        f'<div class="card-meta">{meta}</div>{section}'
        f'<div class="card-text">{passage_html(passage.text, spans, strong, passage.doubtful)}</div>'
        f'<button type="button" class="read-doc" data-doc-id="{esc(passage.doc_id)}" data-start="{start}" '
        f'data-end="{end}">{esc(read_label)} →</button>'
        "</article>"
    )


def citation_passages(answer: Answer) -> list[tuple[Passage, list[Span], list[tuple[int, int]]]]:
    """Cited passages in order of first citation, each with its ``(start, end, n)`` spans and the
    answer's highlight spans inside them."""
    by_chunk = {p.chunk_id: p for p in answer.passages}
    grouped: dict[str, tuple[Passage, list[Span], list[tuple[int, int]]]] = {}
    for c in sorted(answer.citations, key=lambda c: c.n):
        if c.chunk_id not in grouped:
            known = by_chunk.get(c.chunk_id)
            passage = known if known is not None and known.text == c.passage else _passage_of(c, known)
            grouped[c.chunk_id] = (passage, [], [])
        grouped[c.chunk_id][1].append((c.span_start, c.span_end, c.n))
        grouped[c.chunk_id][2].extend(c.highlights)
    return list(grouped.values())


def _passage_of(c: Citation, known: Passage | None) -> Passage:
    return Passage(
        chunk_id=c.chunk_id,
        doc_id=c.doc_id,
        text=c.passage,
        start=c.doc_start - c.span_start,
        end=c.doc_start - c.span_start + len(c.passage),
        section=c.section,
        title=c.title,
        date=c.date,
        doc_number=known.doc_number if known else None,
    )


def distinct_places(passages: Sequence[Passage]) -> tuple[list[Passage], list[Passage]]:
    """(the first passage of each distinct document section, the others), in rank order."""
    seen: set[tuple[str, str]] = set()
    first, repeats = [], []
    for p in passages:
        key = (p.doc_id, p.section)
        (repeats if key in seen else first).append(p)
        seen.add(key)
    return first, repeats


def render_sources(answer: Answer, turn: int, *, focus: int | None = None) -> str:
    """The sources of one answer: cited passages (or, for a refusal, the closest places), then
    the other retrieved passages folded. ``focus``: the marker the page should jump to."""
    labels = labels_for(answer.language)
    focus_attr = f' data-focus="{focus}"' if focus is not None else ""
    parts = [
        f'<div class="sources-panel"><section class="turn-sources active" id="sources-{turn}" '
        f'data-turn="{turn}"{focus_attr}>',
        f'<div class="turn-head"><span class="turn-no">#{turn}</span> {esc(answer.question)}</div>',
    ]
    cited = citation_passages(answer)
    titles = {p.doc_id: p.title for p in answer.passages if p.title}
    titles |= {c.doc_id: c.title for c in answer.citations if c.title}
    card = partial(passage_card, read_label=labels.read, titles=titles)
    cited_ids = {p.chunk_id for p, _, _ in cited}
    rest = [p for p in answer.passages if p.chunk_id not in cited_ids]
    offset = 0
    if answer.abstained:
        places, repeats = distinct_places(rest)
        shown = places[:CLOSEST_SHOWN]
        parts.append(f'<h4 class="sources-title abstained">{esc(labels.closest)}</h4>')
        items = "".join(
            f'<li data-chunk-id="{esc(p.chunk_id)}">{esc(where(p.title, p.section, p.doc_id))}</li>'
            for p in shown
        )
        parts.append(f'<ol class="closest-list">{items}</ol>')
        parts += [card(p, rank=i) for i, p in enumerate(shown, start=1)]
        rest = places[CLOSEST_SHOWN:] + repeats
        offset = len(shown)
    else:
        parts.append(f'<h4 class="sources-title">{esc(labels.cited)}</h4>')
        parts += [card(p, spans=s, strong=h) for p, s, h in cited]
    if not answer.passages and not cited:
        parts.append(f'<p class="empty">{esc(labels.no_sources)}</p>')
    if rest:
        cards = "".join(card(p, rank=offset + i) for i, p in enumerate(rest, start=1))
        parts.append(
            f'<details class="other-sources"><summary>{esc(labels.other)} ({len(rest)})</summary>{cards}</details>'
        )
    parts.append("</section></div>")
    return "".join(parts)
