"""Normalisation for matching answers and evidence: width, whitespace, script, ruby, case."""

from __future__ import annotations

import re

from rag.clean import strip_ruby
from rag.textnorm import fold_t2s

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s\"'“”‘’「」『』《》〈〉()（）\[\]【】,，.。、;；:：!！?？·—\-–]+")


def normalize(text: str) -> str:
    """NFKC width folding, traditional→simplified, pinyin ruby removed, lower-case, no whitespace."""
    return _SPACE.sub("", fold_t2s(strip_ruby(text)).lower())


def contains(haystack: str, needle: str) -> bool:
    """Does ``needle`` occur in ``haystack`` once both are normalised (punctuation ignored too)?"""
    if not needle.strip():
        return False
    plain_needle = _PUNCT.sub("", normalize(needle))
    if not plain_needle:
        return normalize(needle) in normalize(haystack)
    return plain_needle in _PUNCT.sub("", normalize(haystack))


def squad_tokens(text: str) -> list[str]:
    """SQuAD-style tokens for F1: Chinese characters one by one, English words, digits runs."""
    folded = _PUNCT.sub(" ", fold_t2s(text).lower())
    return re.findall(r"[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]", folded)
