"""Tables kept as tables: each row one line of the document text, its header repeated in it.

A row of a table with a header reads ``牵头单位：省发展改革委 | 目标值：49个`` (header, full-width
colon, value; cells joined by `` | ``), so a row is understandable on its own, whichever chunk it
lands in; the chunker keeps each row whole (one unit, never split across chunks) and the passage
view draws consecutive rows as a table again. A table without a header row gives ``a | b``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SEPARATOR = " | "
KEY_SEPARATOR = "："
_MAX_KEY_CHARS = 40
_ROW_RE = re.compile(r"[^\n|]+(?: \| [^\n|]+)+")


@dataclass(frozen=True)
class Cell:
    """One cell of a row line: its header (may be empty) and where its value lies in the line."""

    key: str
    start: int  # offsets of the value within the line
    end: int


def row_line(headers: Sequence[str], cells: Sequence[str]) -> str:
    """One row as a line: ``header：value`` pairs (or bare values without headers) joined by `` | ``.

    Empty values are left out; a pair equal to the one before it (a merged cell repeats its text
    in python-docx) is written once."""
    pairs: list[tuple[str, str]] = []
    for i, value in enumerate(cells):
        value = _one_line(value)
        key = _one_line(headers[i]) if i < len(headers) else ""
        if value and (not pairs or pairs[-1] != (key, value)):
            pairs.append((key, value))
    if len(pairs) == 1 and not pairs[0][0]:
        return pairs[0][1]
    return SEPARATOR.join(f"{key}{KEY_SEPARATOR}{value}" if key else value for key, value in pairs)


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a table whose first row is its header (a one-row table has none)."""
    rows = [list(row) for row in rows if any(_one_line(c) for c in row)]
    if len(rows) < 2:
        return [row_line([], row) for row in rows]
    header = rows[0]
    return [line for line in (row_line(header, row) for row in rows[1:]) if line]


def is_row(line: str) -> bool:
    """Whether a line (a paragraph of the document text) is a table row."""
    return bool(_ROW_RE.fullmatch(line))


def parse_row(line: str) -> list[Cell] | None:
    """The cells of a row line (None when the line is not one)."""
    if not is_row(line):
        return None
    cells: list[Cell] = []
    start = 0
    for piece in line.split(SEPARATOR):
        key, cut = "", piece.find(KEY_SEPARATOR)
        if 0 < cut <= _MAX_KEY_CHARS:
            key = piece[:cut]
        value_start = start + (cut + len(KEY_SEPARATOR) if key else 0)
        cells.append(Cell(key, value_start, start + len(piece)))
        start += len(piece) + len(SEPARATOR)
    return cells


def _one_line(text: str) -> str:
    return " ".join(text.replace("|", "｜").split())
