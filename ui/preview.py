"""A document to read: its cleaned text with chunk boundaries and a section outline, the cited
span marked so the page can scroll to it. No gradio here.

The text is the document's file loaded and cleaned again when the file is still the one indexed
(same hash), so offsets of citations (``Citation.doc_start``) point into it exactly; otherwise (and
for scanned documents, not read by OCR again) it is pieced together from the indexed chunks
(headings between chunks are then missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.clean import clean
from rag.errors import LoadError
from rag.index import KnowledgeBase
from rag.ingest import file_sha256
from rag.load import load_document
from rag.supersede import series
from ui import strings
from ui.render import esc, text_html
from ui.sources import where


@dataclass(frozen=True)
class ChunkPlace:
    position: int
    start: int
    end: int
    section: str


@dataclass(frozen=True)
class DocumentView:
    doc_id: str
    title: str
    date: str
    doc_number: str
    text: str
    chunks: list[ChunkPlace]
    exact: bool  # the text is the cleaned file (False: pieced together from chunks)
    # The documents that repeal or were repealed by this one (rag.supersede.series), by date:
    # (doc_id, title, date, doc_id of its replacement or "").
    series: tuple[tuple[str, str, str, str], ...] = ()

    def outline(self) -> list[tuple[str, int]]:
        """(section path, position of its first chunk), in document order, each section once."""
        seen: dict[str, int] = {}
        for c in self.chunks:
            if c.section and c.section not in seen:
                seen[c.section] = c.position
        return list(seen.items())


def load_view(kb: KnowledgeBase, doc_id: str) -> DocumentView:
    """The document ``doc_id`` of ``kb``; ValueError (in both languages) if it is not there."""
    registry = kb.registry()
    stored = registry.get(doc_id)
    if not stored:
        raise ValueError(strings.no_such_document(doc_id))
    primary = [c for c in stored if not c.chunk_id.endswith("#en")]
    meta = primary[0].metadata
    chunks = sorted(
        (
            ChunkPlace(
                int(c.metadata.get("position", 0)),
                int(c.metadata["start"]),
                int(c.metadata["end"]),
                c.metadata.get("section", ""),
            )
            for c in primary
        ),
        key=lambda c: (c.start, c.position),
    )
    # a scanned document is not read by OCR again (seconds a page): its chunks give the text
    scanned = any("ocr_confidence" in c.metadata for c in primary)
    text = None if scanned else _cleaned_file(meta.get("source_path", ""), meta.get("doc_sha256", ""))
    exact = True
    if text is None:
        text, exact = _from_chunks(kb, [c.chunk_id for c in primary], chunks), False
    return DocumentView(
        doc_id=doc_id,
        title=meta.get("title") or doc_id,
        date=meta.get("date", ""),
        doc_number=meta.get("doc_number", ""),
        text=text,
        chunks=chunks,
        exact=exact,
        series=_series(doc_id, {d: records[0].metadata for d, records in registry.items() if records}),
    )


def _series(doc_id: str, documents: dict[str, dict]) -> tuple[tuple[str, str, str, str], ...]:
    return tuple(
        (d, documents[d].get("title") or d, documents[d].get("date") or "", newer or "")
        for d, newer in series(doc_id, documents)
    )


def _cleaned_file(source_path: str, sha256: str) -> str | None:
    path = Path(source_path) if source_path else None
    if path is None or not path.is_file() or file_sha256(path) != sha256:
        return None
    try:
        return clean(load_document(path)).text
    except LoadError:
        return None


def _from_chunks(kb: KnowledgeBase, chunk_ids: list[str], places: list[ChunkPlace]) -> str:
    with kb.reading():
        texts = {c.metadata.get("start"): c.text for c in kb.store.get(chunk_ids)}
    size = max((p.end for p in places), default=0)
    chars = ["\n"] * size
    for place in places:
        piece = texts.get(place.start, "")
        chars[place.start : place.start + len(piece)] = piece
    return "".join(chars[:size])


def render_preview(
    view: DocumentView, *, start: int | None = None, end: int | None = None, request: int = 0
) -> str:
    """The preview panel. ``start``/``end``: the span to mark and scroll to (document offsets);
    ``request`` makes each opening a new value, so the page scrolls again."""
    size = len(view.text)
    span = (max(0, start), min(size, end)) if start is not None and end is not None and end > start else None
    meta = "".join(f'<span class="meta-item">{esc(x)}</span>' for x in (view.date, view.doc_number) if x)
    outline = "".join(
        f'<li><a class="outline-link" href="#doc-chunk-{pos}" data-chunk="{pos}">{esc(where(None, section))}</a></li>'
        for section, pos in view.outline()
    )
    notice = "" if view.exact else f'<p class="preview-notice">{esc(strings.PREVIEW_FROM_CHUNKS)}</p>'
    notice += _series_html(view)
    return (
        f'<div class="doc-preview" data-doc-id="{esc(view.doc_id)}" data-request="{request}">'
        f'<header class="preview-head"><div class="preview-title">{esc(view.title)}</div>'
        f'<button type="button" class="preview-close">{esc(strings.CLOSE)}</button></header>'
        f'<div class="card-meta">{meta}</div>{notice}'
        + (
            f'<details class="preview-outline" open><summary>{esc(strings.OUTLINE)}</summary><ol>{outline}</ol></details>'
            if outline
            else ""
        )
        + f'<div class="preview-text">{_body(view, span)}</div></div>'
    )


def _series_html(view: DocumentView) -> str:
    """The document's series as a timeline: date, title, in force or superseded; this one marked."""
    items = []
    for doc_id, title, date, newer in view.series:
        state = strings.SERIES_SUPERSEDED if newer else strings.SERIES_CURRENT
        here = ' aria-current="true" class="series-this"' if doc_id == view.doc_id else ""
        items.append(
            f'<li data-doc-id="{esc(doc_id)}"{here}><span class="meta-item">{esc(date or "—")}</span> '
            f'{esc(title)} <span class="series-state{" superseded" if newer else ""}">{esc(state)}</span></li>'
        )
    if not items:
        return ""
    return f'<details class="preview-series" open><summary>{esc(strings.SERIES)}</summary><ol>{"".join(items)}</ol></details>'


def _body(view: DocumentView, span: tuple[int, int] | None) -> str:
    """The text with a chunk label at each chunk's start and the span marked."""
    cuts: dict[int, list[str]] = {}
    for c in view.chunks:
        cuts.setdefault(c.start, []).append(
            f'<span class="chunk-start" id="doc-chunk-{c.position}" data-chunk="{c.position}">'
            f"{esc(strings.CHUNK)} {c.position + 1}</span>"
        )
    if span:
        cuts.setdefault(span[0], []).append('<mark class="cited-span is-target preview-target">')
        cuts.setdefault(span[1], []).insert(0, "</mark>")
    out, last = [], 0
    for offset in sorted(cuts):
        if offset > len(view.text):
            continue
        out.append(text_html(view.text[last:offset]))
        out.extend(cuts[offset])
        last = offset
    out.append(text_html(view.text[last:]))
    return "".join(out)
