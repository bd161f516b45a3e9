"""Pure rendering of the conversation: questions, answers (finished, streaming, stopped, failed),
the stage indicator and the queue. No gradio here; the sources panel is :mod:`ui.sources`.

Everything taken from documents or users is escaped. Clicks on ``a.cite`` markers, copy buttons
and example questions are handled by the page script (:mod:`ui.theme`), which reads the
``data-*`` attributes written here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.generate.markers import MARKER, marker_numbers
from rag.types import STAGES, Answer, Citation
from ui import strings
from ui.strings import Labels, labels_for


def esc(text: object) -> str:
    """Escape for HTML text and attribute values; line breaks become spaces."""
    value = "" if text is None else str(text)
    return html.escape(" ".join(value.splitlines()) if "\n" in value or "\r" in value else value, quote=True)


def text_html(text: str) -> str:
    """Escaped text with line breaks as ``<br>`` (no newline survives)."""
    return "<br>".join(esc(line) for line in text.replace("\r\n", "\n").split("\n"))


_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


def answer_text_html(text: str) -> str:
    """An answer's text as :func:`text_html`, its ``**lead**`` (what was asked for, which the
    extractive answer puts first) in bold."""
    return _BOLD.sub(r"<strong>\1</strong>", text_html(text))


def linkify_markers(escaped: str, turn: int, known: set[int] | None = None) -> str:
    """Turn the markers of already-escaped text (``[1]``, ``[1, 2]``, ``［1］``: the verifier's
    syntax, ``rag.generate.markers``) into footnote links, one per number; with ``known``, only
    those numbers are links (a marker naming none of them stays as written)."""

    def link(n: int) -> str:
        if known is not None and n not in known:
            return f"[{n}]"
        return f'<a class="cite" href="#cite-{turn}-{n}" data-turn="{turn}" data-n="{n}"><sup>[{n}]</sup></a>'

    def links(match: re.Match[str]) -> str:
        numbers = marker_numbers(match.group(1))
        if known is not None and not known.intersection(numbers):
            return match.group(0)
        return "".join(link(n) for n in numbers)

    return MARKER.sub(links, escaped)


def render_question(text: str) -> str:
    return f'<div class="msg-question">{text_html(text)}</div>'


def render_turn(number: int, question: str, answer_html: str) -> str:
    """One exchange as the conversation shows it (kept, so a long chat re-renders nothing)."""
    return f'<div class="turn" id="turn-{number}" data-turn="{number}">{render_question(question)}{answer_html}</div>'


def render_welcome(examples: Sequence[tuple[str, str]]) -> str:
    """The empty conversation: what to do, and example questions in three scripts."""
    buttons = "".join(
        f'<button type="button" class="example" data-question="{esc(q)}">'
        f'<span class="example-q">{esc(q)}</span><span class="example-script">{esc(script)}</span></button>'
        for q, script in examples
    )
    return (
        f'<div class="welcome"><div class="welcome-title">{esc(strings.EMPTY_CHAT_TITLE)}</div>'
        f'<div class="examples-label">{esc(strings.EXAMPLES)}</div><div class="examples">{buttons}</div></div>'
    )


def render_stages(current: str | None) -> str:
    """retrieving → answering → verifying, with the current one marked (None: not started)."""
    reached = STAGES.index(current) if current in STAGES else -1
    items = []
    for i, name in enumerate(STAGES):
        state = "done" if 0 <= i < reached else "now" if i == reached else "todo"
        items.append(f'<li class="stage {state}" data-stage="{name}">{esc(strings.STAGE_NAMES[name])}</li>')
    now = f'<div class="stage-now">{esc(strings.STAGE_NOW[current])}</div>' if current in STAGES else ""
    return f'<ol class="stages" aria-live="polite">{"".join(items)}</ol>{now}'


def render_partial(text: str, stage: str | None = None) -> str:
    """An answer still being written: the stage indicator, the text so far, a cursor. Markers stay
    plain text until the answer is checked (its sources are not in the panel yet)."""
    body = answer_text_html(text) if text else ""
    stage_attr = f' data-stage="{esc(stage)}"' if stage else ""
    return (
        f'<div class="msg-answer streaming"{stage_attr}>{render_stages(stage)}'
        f'<div class="answer-text">{body}<span class="cursor"></span></div></div>'
    )


def render_live(
    number: int,
    question: str,
    *,
    stage: str | None,
    text: str,
    queued: Sequence[str] = (),
    stopping: bool = False,
) -> str:
    """The exchange in progress, and the questions waiting behind it."""
    parts = [f'<div class="turn live" data-turn="{number}">{render_question(question)}']
    parts.append(render_partial(text, stage))
    note = strings.STOPPING if stopping else strings.BUSY_HINT
    parts.append(f'<div class="{"stopping" if stopping else "busy-hint"}">{esc(note)}</div>')
    parts.append("</div>")
    parts.append(render_queue(queued))
    return "".join(parts)


def render_queue(queued: Sequence[str]) -> str:
    if not queued:
        return ""
    items = "".join(f'<li class="queued-q">{esc(q)}</li>' for q in queued)
    return (
        f'<div class="queue" role="status"><div class="queue-head">{esc(strings.QUEUED)} ({len(queued)})</div>'
        f"<ol>{items}</ol></div>"
    )


def render_error(message: str) -> str:
    return f'<div class="msg-error" role="alert">⚠ {esc(message)}</div>'


def render_stopped(text: str, turn: int, language: str = "zh") -> str:
    """What had been written when the user pressed Stop."""
    labels = labels_for(language)
    body = linkify_markers(answer_text_html(text), turn) if text else ""
    return (
        f'<div class="msg-answer stopped"><span class="badge badge-stopped">{esc(labels.stopped)} · Stopped</span>'
        f'<div class="answer-text">{body}</div></div>'
    )


def render_answer(answer: Answer, turn: int, *, settings_line: str = "", revised: bool = False) -> str:
    """The finished answer: text with footnote markers, a footnote list, and folded details.
    ``revised``: the streamed draft differed from this checked text (LLM answers), said so."""
    labels = labels_for(answer.language)
    known = {c.n for c in answer.citations}
    body = linkify_markers(answer_text_html(answer.text), turn, known)
    total = answer.timings.get("total")
    total_attr = f' data-total-ms="{total * 1000:.1f}"' if total is not None else ""
    parts = [f'<div class="msg-answer{" abstained" if answer.abstained else ""}"{total_attr}>']
    if answer.abstained:
        parts.append(f'<span class="badge badge-abstained">{esc(labels.abstained)}</span>')
    if revised:
        parts.append(f'<div class="revised-note" role="note">✎ {esc(labels.revised)}</div>')
    parts.append(f'<div class="answer-text">{body}</div>')
    if answer.citations:
        parts.append(_footnotes(answer.citations, turn))
    parts.append(_details(answer, labels, settings_line))
    parts.append(
        f'<div class="answer-tools"><button type="button" class="copy-answer">{esc(strings.COPY)}</button></div>'
    )
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
    answerability = getattr(answer, "answerability", None)
    if answerability is not None:
        rows.append((labels.answerability, f"{answerability:.0%}"))
    if answer.verification_notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in answer.verification_notes)
        rows.append((labels.notes, f"<ul>{notes}</ul>"))
    if settings_line:
        rows.append((labels.retrieval, esc(settings_line)))
    if answer.timings:
        shown = ("retrieve", "generate", "verify", "total")
        times = ", ".join(f"{k} {answer.timings[k] * 1000:.0f} ms" for k in shown if k in answer.timings)
        rows.append((labels.timings, esc(times)))
    if not rows:
        return ""
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    # Rewriting and notes change how far the answer can be trusted: show them open.
    opened = " open" if answer.rewritten_question or answer.verification_notes else ""
    return f'<details class="answer-details"{opened}><summary>{esc(labels.details)}</summary><dl>{cells}</dl></details>'
