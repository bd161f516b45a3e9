"""Checkable facts of a sentence: its numbers and the place names it mentions.

Numbers are compared as values with their scale (``5000亿`` = ``500 billion`` = 5×10¹¹), after
NFKC folding (full-width digits) and removing thousands separators. Evidence text also yields the
values of Chinese numerals (``四十九`` = 49, ``二〇二〇`` = 2020); a sentence's own Chinese numerals
are not checked (``统一``, ``十四五`` are words, not quantities). Place names come from the place
sections of the glossary (``data/glossary/zh_en.tsv``), in English or Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from rag.glossary import place_names, places_in
from rag.textnorm import fold_t2s

_SCALES = {
    "十": 10,
    "百": 100,
    "千": 1000,
    "万": 10**4,
    "萬": 10**4,
    "亿": 10**8,
    "億": 10**8,
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
}
_NUMBER = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(百万|千万|百亿|千亿|万亿|十|百|千|万|萬|亿|億|hundred|thousand|million|billion|trillion)?",
    re.I,
)
# A list enumerator opening a line ("1. ", "2、", "(3)") is not a fact.
_ENUMERATOR = re.compile(r"^\s*(?:\d{1,2}[.、)）]\s|[(（]\d{1,2}[)）])", re.M)
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_CHINESE_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_NUMERAL = re.compile(r"[零〇一二两兩三四五六七八九十百千万萬亿億]+")


def _scale(word: str | None) -> int:
    if not word:
        return 1
    word = word.lower()
    if word in _SCALES:
        return _SCALES[word]
    return _SCALES[word[0]] * _SCALES[word[1]]  # 百万, 千亿, 万亿 ...


def _values(number: str, scale: int) -> set[Decimal]:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return set()
    return {value.normalize(), (value * scale).normalize()}


def sentence_numbers(text: str) -> list[set[Decimal]]:
    """For each number written with digits in ``text``: the values it may stand for."""
    folded = _ENUMERATOR.sub(" ", unicodedata.normalize("NFKC", text))
    folded = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", folded)
    return [_values(m.group(1), _scale(m.group(2))) for m in _NUMBER.finditer(folded)]


def evidence_numbers(text: str) -> set[Decimal]:
    """Every value that ``text`` states, with digits or with Chinese numerals."""
    values = set().union(*sentence_numbers(text)) if text else set()
    for match in _CHINESE_NUMERAL.finditer(unicodedata.normalize("NFKC", text)):
        value = chinese_numeral(match.group())
        if value is not None:
            values.add(Decimal(value))
    return values


def chinese_numeral(run: str) -> int | None:
    """``四十九`` -> 49, ``二〇二〇`` -> 2020, ``三千五百万`` -> 35000000; None when malformed."""
    if all(c in _CHINESE_DIGITS for c in run):
        return int("".join(str(_CHINESE_DIGITS[c]) for c in run)) if len(run) > 1 else _CHINESE_DIGITS[run]
    if not any(c in _CHINESE_DIGITS for c in run) and run != "十":
        return None  # 万, 亿 or 百 alone
    total, section, digit = 0, 0, None
    for char in run:
        if char in "零〇":
            continue  # 一百零五: the zero only marks a skipped place
        if char in _CHINESE_DIGITS:
            if digit is not None:
                return None
            digit = _CHINESE_DIGITS[char]
        elif char in "十百千":
            section += (1 if digit is None else digit) * _SCALES[char]
            digit = None
        else:  # 万 or 亿 closes a section
            section += digit or 0
            total = (total + section) * _SCALES[char]
            section, digit = 0, None
    return total + section + (digit or 0)


def unsupported_numbers(sentence: str, evidence: set[Decimal]) -> list[str]:
    """Numbers of ``sentence`` whose values the evidence does not state."""
    folded = _ENUMERATOR.sub(" ", unicodedata.normalize("NFKC", sentence))
    folded = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", folded)
    return [
        m.group(0).strip()
        for m in _NUMBER.finditer(folded)
        if not _values(m.group(1), _scale(m.group(2))) & evidence
    ]


def unsupported_places(sentence: str, evidence: str) -> list[str]:
    """Places ``sentence`` names that ``evidence`` names in neither language."""
    folded, lowered = fold_t2s(evidence), evidence.lower().replace("’", "'")
    spellings: dict[str, list[str]] = {}
    for english, chinese in place_names():
        spellings.setdefault(chinese, []).append(english)
    return sorted(
        place
        for place in places_in(sentence)
        if place not in folded
        and not any(
            re.search(rf"(?<![a-z]){re.escape(e)}(?![a-z])", lowered) for e in spellings.get(place, [])
        )
    )
