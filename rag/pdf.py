"""A PDF's text layer, page by page, with its ruled tables kept as tables.

pypdf reads each page's text. A page with a ruled table (cells drawn with lines, as Word, WPS and
browsers print them) is read by pdfplumber instead, which finds the table from those lines and
its cells from the characters' positions: the table becomes one line a row with its header
repeated (``rag.tables``), in its place among the page's other lines. A table continued at the
top of the next page without its header gets the header of the part before it. Pages without a
table, and any page pdfplumber cannot read, keep pypdf's text, so a table detector failing costs
nothing. Kangxi radicals (``⽬`` U+2F6C for ``目``), which some fonts' character maps produce, are
folded to the ideographs they stand for.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader

from rag import tables

logger = logging.getLogger(__name__)

_RADICALS = re.compile("[\u2e80-\u2fdf]")
# CJK Radicals Supplement characters have no NFKC form; these pairs are the ones Noto Sans CJK SC
# draws with the glyph of an ideograph (so a PDF's character map may name the radical).
_PAIRS = (
    "⺂乛⺃乚⺅亻⺉刂⺋㔾⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺭礻⺯糹⺰纟"
    "⺱罓⺳㓁⺹耂⺺肀⺾艹⻂衤⻅见⻆角⻈讠⻉贝⻋车⻌辶⻐钅⻑長⻒镸⻓长⻔门⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食"
    "⻟飠⻠饣⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟"
)
_SUPPLEMENT = {_PAIRS[i]: _PAIRS[i + 1] for i in range(0, len(_PAIRS), 2)}
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


class EncryptedPdfError(ValueError):
    """The PDF is encrypted with a password."""


def page_texts(data: bytes) -> list[str]:
    """Each page's text (stripped; empty for a page without a text layer)."""
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise EncryptedPdfError("PDF is encrypted")
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    with_text = [i for i, text in enumerate(pages) if text]
    if with_text:
        for index, text in _table_pages(data, with_text).items():
            pages[index] = text
    return [fold_radicals(text) for text in pages]


def fold_radicals(text: str) -> str:
    """Kangxi and supplementary radicals -> the ideographs they stand for (NFKC, these only)."""
    return _RADICALS.sub(
        lambda m: _SUPPLEMENT.get(m.group()) or unicodedata.normalize("NFKC", m.group()), text
    )


@dataclass
class _Continuation:
    """The table that ended the page before: its header and number of columns."""

    header: list[str] | None = None
    columns: int = 0


def _table_pages(data: bytes, indexes: list[int]) -> dict[int, str]:
    """The text of those of ``indexes``' pages that hold a ruled table, by pdfplumber."""
    try:
        import pdfplumber
    except ImportError:  # a core dependency; an environment installed before it keeps running text
        logger.debug("pdfplumber is not installed: PDF tables are read as running text")
        return {}
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font-descriptor chatter per character
    found: dict[int, str] = {}
    carried = _Continuation()
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception:  # pypdf read it; pdfplumber not: keep pypdf's text
        logger.debug("pdfplumber cannot open this PDF", exc_info=True)
        return {}
    with pdf:
        for index in indexes:
            try:
                page = pdf.pages[index]
                text, carried = _page_with_tables(page, carried if index - 1 in found else _Continuation())
            except Exception:  # one page the detector cannot read keeps its running text
                logger.debug("table detection failed on page %d", index + 1, exc_info=True)
                continue
            if text is not None:
                found[index] = text
            page.close()
    return found


def _page_with_tables(page: Any, carried: _Continuation) -> tuple[str | None, _Continuation]:
    """The page's lines with its tables as row lines (None without a table), and the table that
    ends it, if one does."""
    found = [t for t in page.find_tables(_TABLE_SETTINGS) if _is_table(t)]
    if not found:
        return None, _Continuation()
    boxes = [t.bbox for t in found]
    rest = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    items: list[tuple[float, str]] = [(line["top"], line["text"]) for line in rest.extract_text_lines()]
    first_top = min((top for top, _ in items), default=float("inf"))
    ending = _Continuation()
    for table in sorted(found, key=lambda t: t.bbox[1]):
        rows = [[_cell_text(cell) for cell in row] for row in table.extract()]
        if (
            table is found[0]
            and table.bbox[1] < first_top
            and carried.header
            and len(rows[0]) == carried.columns
            and rows[0] != carried.header
        ):
            rows = [carried.header, *rows]  # the rest of the previous page's table
        items.append((table.bbox[1], "\n".join(tables.table_lines(rows))))
        ending = _Continuation(rows[0], len(rows[0]))
    items.sort(key=lambda item: item[0])
    last_table_bottom = max(t.bbox[3] for t in found)
    if any(top > last_table_bottom for top, _ in items):
        ending = _Continuation()  # text follows the last table: nothing continues on the next page
    return "\n".join(text for _, text in items if text.strip()), ending


def _is_table(table: Any) -> bool:
    """At least two rows and two columns (a ruled box around a paragraph is not a table)."""
    rows = table.extract()
    return len(rows) >= 2 and max(len(row) for row in rows) >= 2


def _inside(obj: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _cell_text(value: str | None) -> str:
    """A cell's lines as one: wrapped Chinese joins without a space, words keep theirs."""
    lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        ascii_join = text[-1:].isascii() and text[-1:].isalnum() and line[:1].isascii() and line[:1].isalnum()
        text += (" " if ascii_join else "") + line
    return text
