"""Small pieces of the page around the chat: the knowledge-base summary, the active settings line,
the conversation list and the document table's rows. No gradio here."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rag.index import DocumentSummary
from rag.settings import Settings
from ui import strings
from ui.render import esc
from ui.store import ConversationInfo

RECENT_SHOWN = 5


def newest_first(docs: Sequence[DocumentSummary]) -> list[DocumentSummary]:
    """Most recently added first, then most recent date, then title."""
    by_title = sorted(docs, key=lambda d: d.title or d.doc_id)
    by_date = sorted(by_title, key=lambda d: d.date or "", reverse=True)
    return sorted(by_date, key=lambda d: d.added_at or "", reverse=True)


def kb_summary(collection: str, docs: Sequence[DocumentSummary], settings: Settings) -> str:
    """Which documents the knowledge base holds (count, dates, the newest titles) and how answers
    are made, in words."""
    generator = strings.generator_words(settings.generator, settings.llm_model)
    chunks = sum(d.chunks for d in docs)
    parts = [f'<span class="kb-counts">{esc(strings.kb_counts(collection, len(docs), chunks))}</span>']
    dates = sorted(d.date for d in docs if d.date)
    if dates:
        parts.append(f'<span class="kb-dates">{esc(strings.date_range(dates[0], dates[-1]))}</span>')
    parts.append(f'<span class="kb-generator">{esc(generator)}</span>')
    line = '<span class="sep"> · </span>'.join(parts)
    if not docs:
        return f'<div class="kb-summary empty"><div class="kb-line">{line}</div><p>{esc(strings.KB_EMPTY)}</p></div>'
    recent = sorted(docs, key=lambda d: (d.date or "", d.added_at or ""), reverse=True)[:RECENT_SHOWN]
    items = "".join(
        f'<li><button type="button" class="read-doc" data-doc-id="{esc(d.doc_id)}">'
        f'<span class="recent-date">{esc(d.date or "")}</span> {esc(d.title or d.doc_id)}</button></li>'
        for d in recent
    )
    return (
        f'<div class="kb-summary" data-documents="{len(docs)}"><div class="kb-line">{line}</div>'
        f'<div class="kb-recent"><span class="kb-recent-label">{esc(strings.RECENT_TITLES)}:</span>'
        f"<ol>{items}</ol></div></div>"
    )


def active_settings(k: int, mode: str, filtered: int) -> str:
    """The settings the next question is asked with, always in view (a filter stands out)."""
    cls = "active-settings filtered" if filtered else "active-settings"
    return f'<div class="{cls}">⚙ {esc(strings.settings_line(k, mode, filtered))}</div>'


def conversation_list(
    items: Sequence[ConversationInfo], current: str | None, *, now: float | None = None
) -> str:
    """The browser's saved conversations; the open one marked. Rename and delete are done in place
    by the page script (no dialogs)."""
    if not items:
        return f'<div class="conv-list empty"><p>{esc(strings.NO_CONVERSATIONS)}</p></div>'
    now = time.time() if now is None else now
    rows = []
    for c in items:
        active = " active" if c.id == current else ""
        rows.append(
            f'<li class="conv{active}" data-id="{esc(c.id)}">'
            f'<button type="button" class="conv-open" title="{esc(c.title)}">'
            f'<span class="conv-title">{esc(c.title)}</span>'
            f'<span class="conv-meta">{esc(c.collection)} · {c.turns} · {esc(_ago(now - c.updated))}</span></button>'
            f'<span class="conv-actions">'
            f'<button type="button" class="conv-rename" title="{esc(strings.RENAME)}" aria-label="{esc(strings.RENAME)}">✎</button>'
            f'<button type="button" class="conv-delete" title="{esc(strings.DELETE)}" aria-label="{esc(strings.DELETE)}">✕</button>'
            "</span>"
            f'<span class="conv-confirm"><button type="button" class="conv-delete-yes">{esc(strings.CONFIRM_DELETE)}</button>'
            f'<button type="button" class="conv-cancel">{esc(strings.CANCEL)}</button></span>'
            f'<span class="conv-edit"><input type="text" class="conv-title-input" maxlength="60" value="{esc(c.title)}" '
            f'aria-label="{esc(strings.RENAME)}"><button type="button" class="conv-save">{esc(strings.SAVE)}</button></span>'
            "</li>"
        )
    return f'<div class="conv-list"><ol>{"".join(rows)}</ol></div>'


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "刚刚 just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟前 min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} 小时前 h ago"
    return time.strftime("%Y-%m-%d", time.localtime(time.time() - seconds))


def document_rows(docs: Sequence[DocumentSummary], *, show_ids: bool = False) -> list[list[object]]:
    """Rows of the documents table (the order of ``docs``): title, date, number, chunks, added."""
    rows = []
    for d in docs:
        row: list[object] = [
            d.title or d.doc_id,
            d.date,
            d.doc_number,
            d.chunks,
            d.added_at[:16].replace("T", " "),
        ]
        rows.append([d.doc_id, *row] if show_ids else row)
    return rows


def document_headers(*, show_ids: bool = False) -> list[str]:
    return [strings.ID_COLUMN, *strings.COLUMNS] if show_ids else list(strings.COLUMNS)


def document_widths(*, show_ids: bool = False) -> list[str]:
    return ["16%", "36%", "11%", "15%", "8%", "14%"] if show_ids else ["46%", "13%", "18%", "9%", "14%"]
