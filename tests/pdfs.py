"""Text PDFs with ruled tables, printed from HTML by headless Chromium the way a browser or an
office suite prints a page (CID fonts with a ToUnicode map, cells drawn as lines). Imported as
``pdfs`` (pytest puts tests/ on sys.path). fpdf2 is not used here: it writes a CJK font's
encoding as an embedded CMap that pdfminer cannot read.
"""

from __future__ import annotations

import html
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
_STYLE = (
    "body{font-family:'Noto Sans CJK SC',sans-serif;font-size:14px}"
    "table{border-collapse:collapse;margin:12px 0}td{border:1px solid #000;padding:4px 8px}"
    "tr.break{break-after:page}"
)


def needs_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"printing a test PDF needs Chromium at {CHROMIUM} (apt-get install chromium)")


def table_html(rows: Sequence[Sequence[str]], *, break_after: int | None = None) -> str:
    """A ruled table of plain cells (no <thead>: a browser would repeat it on every page);
    ``break_after`` puts a page break after that row."""
    lines = []
    for i, row in enumerate(rows):
        cls = ' class="break"' if i == break_after else ""
        lines.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    return "<table>" + "".join(lines) + "</table>"


def paragraphs_html(*texts: str) -> str:
    return "".join(f"<p>{html.escape(t)}</p>" for t in texts)


def printed_pdf(body: str, path: Path) -> Path:
    """``body`` (HTML) printed to ``path`` as an A4 PDF with a text layer."""
    needs_chromium()
    page = f'<html><head><meta charset="utf-8"><style>{_STYLE}</style></head><body>{body}</body></html>'
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer",
                f"--print-to-pdf={path}",
                source.as_uri(),
            ],
            capture_output=True,
            check=True,
            timeout=120,
        )
    return path
