"""The searchable per-question table of the eval report (one row per question: answer, citations,
retrieval, result, and whether it flipped against the baseline): ``templates/questions.html``,
rendered by Jinja2 with autoescape, so every value from the run is escaped."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment():
    """The report's Jinja2 environment: ``templates/``, autoescape, undefined names are errors."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters.update(
        clip=_clip, highlighted=_highlighted, question_tags=_question_tags, evidence_rank=_evidence_rank
    )
    return env


def questions_section(results: list[dict], comparison: dict | None) -> str:
    template = environment().get_template("questions.html")
    return template.render(
        results=results,
        failing=set((comparison or {}).get("now_failing", [])),
        passing=set((comparison or {}).get("now_passing", [])),
        langs=sorted({r["lang"] for r in results}),
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _highlighted(text: str, highlights: list[str]) -> Markup:
    """``text`` escaped, with the answer spans the answer singled out in <mark>."""
    html = str(escape(text))
    for piece in highlights:
        escaped = str(escape(piece))
        if escaped and escaped in html:
            html = html.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return Markup(html)


def _question_tags(r: dict) -> list[str]:
    return list(dict.fromkeys(([] if r.get("answerable", True) else ["unanswerable"]) + r.get("tags", [])))


def _evidence_rank(retrieved: list[dict]) -> int | None:
    return next((i for i, p in enumerate(retrieved, start=1) if p.get("relevant")), None)
