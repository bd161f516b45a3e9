"""Script folding, language detection and sentence spans shared by every stage."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# A sentence ends at Chinese terminal punctuation (closing quotes/brackets stay with it), or at
# . ! ? followed by whitespace, unless the period closes a common abbreviation or a number.
_ZH_END = re.compile(r"[。！？；!?;…]+[”’」』》）)\"']*")
_EN_END = re.compile(r"(?<![A-Z][a-z])(?<!\b[A-Z])(?<!\bNo)(?<!\bNos)(?<!\bArt)[.!?]+[”’\"')\]]*(?=\s)")


@lru_cache(maxsize=1)
def _converters():
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def fold_t2s(text: str) -> str:
    """Traditional -> simplified, full-width -> half-width (NFKC), so both scripts match."""
    t2s, _ = _converters()
    return t2s.convert(unicodedata.normalize("NFKC", text))


def to_traditional(text: str) -> str:
    _, s2t = _converters()
    return s2t.convert(text)


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def is_chinese(text: str) -> bool:
    """True when CJK characters outweigh English words (a word counts as ~1.5 characters)."""
    cjk = cjk_count(text)
    return cjk > 0 and cjk * 2 >= len(_LATIN_WORD.findall(text)) * 3


def detect_language(text: str) -> str:
    """'zh-Hans', 'zh-Hant' or 'en' for a question or a passage sentence."""
    if not is_chinese(text):
        return "en"
    chars = _CJK.findall(text)
    traditional_only = sum(1 for c in chars if _script_of(c) == "hant")
    simplified_only = sum(1 for c in chars if _script_of(c) == "hans")
    return "zh-Hant" if traditional_only > simplified_only else "zh-Hans"


@lru_cache(maxsize=65_536)
def _script_of(char: str) -> str:
    """'hant' for a character that only traditional text uses, 'hans' for one only simplified
    text uses, '' for both (cached: a long text repeats its characters)."""
    t2s, s2t = _converters()
    return "hant" if t2s.convert(char) != char else "hans" if s2t.convert(char) != char else ""


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the sentences in ``text[start:end]``; whitespace between sentences is excluded.

    Newlines always end a sentence (headings and list items are lines of their own).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        base = start + line.start()
        segment = line.group()
        cut = 0
        for match in _sentence_ends(segment):
            _append_span(spans, text, base + cut, base + match)
            cut = match
        _append_span(spans, text, base + cut, base + len(segment))
    return spans


def _sentence_ends(segment: str) -> list[int]:
    ends = {m.end() for m in _ZH_END.finditer(segment)}
    ends |= {m.end() for m in _EN_END.finditer(segment)}
    return sorted(e for e in ends if 0 < e < len(segment))


def _append_span(spans: list[tuple[int, int]], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))
