"""Citation markers in answer text: ``[1]``, ``[1][2]``, ``[1, 2]``, ``[1-3]``, full-width ``［1］``
and ``【1】``. Markers are one or two digits, so a bracketed year such as ``CBH [2020] No. 31`` is
text, not a marker. An answer is split into claims: its sentences, each with the markers that
follow it (a marker opening a sentence belongs to the sentence before)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.textnorm import sentence_spans

_NUMBER_LIST = r"\d{1,2}(?:\s*(?:[,，、;；]|[-–~～])\s*\d{1,2})*"
MARKER = re.compile(rf"[\[［【]\s*({_NUMBER_LIST})\s*[\]］】]")
_LEADING_MARKERS = re.compile(rf"(?:\s*{MARKER.pattern})+")
# "[1], [2]": markers with the separators between them; a run of them and the punctuation after.
_MARKER_GROUP = re.compile(rf"{MARKER.pattern}(?:\s*[,，、;；]?\s*{MARKER.pattern})*")
_SENTENCE_END = re.compile(r"[。！？!?.…][”’」』》）)\"']*$")
_CLOSING_RUN = re.compile(rf"(?:\s*{MARKER.pattern}[,，、;；.。!?！？]*)+")
# A reference list an LLM appends ("Sources:\n[1] Title ..."): lines that start with a marker.
_REFERENCE_LINE = re.compile(rf"^\s*{MARKER.pattern}\s*\S")
_REFERENCE_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(?:sources?|references?|citations?|(?:参考|參考)?(?:来源|來源|资料|資料|文献|文獻)|参考|參考|引用)"
    r"\s*[:：]?\s*$",
    re.I,
)


@dataclass(frozen=True)
class Claim:
    """A sentence of an answer. ``start``/``end`` index the answer text and include the sentence's
    markers; ``text`` is the sentence without markers."""

    start: int
    end: int
    text: str
    markers: tuple[int, ...]


def marker_numbers(group: str) -> list[int]:
    """The numbers of one marker's inside: ``"1, 2"`` -> [1, 2]; ``"1-3"`` -> [1, 2, 3]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,，、;；]\s*", group.strip()):
        bounds = [int(b) for b in re.split(r"\s*[-–~～]\s*", part)]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 10:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def markers_in(text: str) -> list[int]:
    """Every marker number of ``text`` in order, repeats removed."""
    found = [n for match in MARKER.finditer(text) for n in marker_numbers(match.group(1))]
    return list(dict.fromkeys(found))


def strip_markers(text: str) -> str:
    """``text`` without markers (and without the spaces they leave before punctuation)."""
    return tidy(MARKER.sub("", text))


def tidy(text: str) -> str:
    text = re.sub(r"[ \t]+(?=[。，、！？；：）」』”,.!?;:)])", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def rewrite_markers(text: str, replace: Callable[[list[int]], list[int]]) -> str:
    """``text`` with each marker's numbers mapped through ``replace`` (an empty list drops it)."""

    def sub(match: re.Match[str]) -> str:
        return "".join(f"[{n}]" for n in replace(marker_numbers(match.group(1))))

    return tidy(MARKER.sub(sub, text))


def split_claims(text: str) -> list[Claim]:
    claims: list[Claim] = []
    for start, end in sentence_spans(text):
        leading = _LEADING_MARKERS.match(text, start, end)
        if leading and claims:
            previous = claims[-1]
            claims[-1] = Claim(
                previous.start,
                leading.end(),
                previous.text,
                tuple(dict.fromkeys(previous.markers + tuple(markers_in(text[start : leading.end()])))),
            )
            start = leading.end()
            while start < end and text[start].isspace():
                start += 1
            if start >= end:
                continue
        piece = text[start:end]
        claims.append(Claim(start, end, strip_markers(piece), tuple(markers_in(piece))))
    return claims


def split_cited_clauses(text: str) -> list[Claim]:
    """Claims that end where a sentence ends or a marker run closes a clause, so each goes with the
    markers that close it ("A [1]，B [2]。" is two; the eval judge checks each against what it
    cites). A sentence piece with no marker that ends at a semicolon or a line break runs on into
    the next. A clause's text drops marker groups with the commas between them ("2020 [1], [2]."
    -> "2020."); markers alone after a clause join it."""
    clauses: list[Claim] = []
    claims = split_claims(text)
    start: int | None = None
    for i, claim in enumerate(claims):
        start = claim.start if start is None else start
        if i + 1 < len(claims) and not claim.markers and not _SENTENCE_END.search(claim.text):
            continue
        for run in _CLOSING_RUN.finditer(text, start, claim.end):
            if _has_words(text[start : run.start()]) and re.search(r"\w", text[run.end() : claim.end]):
                _add_clause(clauses, text, start, run.end())
                start = run.end()
        _add_clause(clauses, text, start, claim.end)
        start = None
    return clauses


def _has_words(piece: str) -> bool:
    return bool(re.search(r"\w", _MARKER_GROUP.sub("", piece)))


def _add_clause(clauses: list[Claim], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    piece = text[start:end]
    plain, markers = tidy(_MARKER_GROUP.sub("", piece)), tuple(markers_in(piece))
    if not re.search(r"\w", plain) and clauses:
        last = clauses[-1]
        clauses[-1] = Claim(last.start, end, last.text + plain, tuple(dict.fromkeys(last.markers + markers)))
    elif plain:
        clauses.append(Claim(start, end, plain, markers))


def strip_reference_list(text: str) -> str:
    """Drop a trailing reference list (lines starting with ``[n]``, optionally under a "Sources:"
    heading): the answer's markers already point at the passages, and the list is not a claim."""
    lines = text.rstrip().split("\n")
    cut = len(lines)
    while cut > 0 and (not lines[cut - 1].strip() or _REFERENCE_LINE.match(lines[cut - 1])):
        cut -= 1
    if cut == len(lines) or cut == 0:
        return text.strip()
    if _REFERENCE_HEADING.match(lines[cut - 1]):
        cut -= 1
    return "\n".join(lines[:cut]).strip() or text.strip()
