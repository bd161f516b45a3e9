"""English → Chinese glossary for dictionary-based query translation (see data/glossary/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).resolve().parent.parent / "data" / "glossary" / "zh_en.tsv"


@dataclass(frozen=True)
class Translation:
    chinese: list[str]  # Chinese terms for the glossary phrases found in the question
    residual: str  # the question's English text that no glossary phrase covered


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[re.Pattern[str], dict[str, str]]:
    mapping: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        if english.strip() and chinese.strip():
            mapping[english.strip().lower()] = chinese.strip()
    phrases = sorted(mapping, key=len, reverse=True)  # longest phrase wins
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, phrases)) + r")(?![a-z0-9])")
    return pattern, mapping


def translate(question: str, *, path: Path = GLOSSARY_FILE) -> Translation:
    """Chinese terms for the English phrases of ``question`` that the glossary knows."""
    if not path.is_file():
        return Translation([], question)
    pattern, mapping = _load(path)
    text = question.lower().replace("’", "'")
    found = [mapping[m.group()] for m in pattern.finditer(text)]
    return Translation(list(dict.fromkeys(found)), pattern.sub(" ", text))
