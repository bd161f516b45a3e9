"""English → Chinese glossary for dictionary-based query translation (see data/glossary/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.textnorm import fold_t2s

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


# Sections of the glossary that hold place names (its comment headings), and the division that
# holds every place of a section ("# Cities of Sichuan [in 四川省]").
_PLACE_SECTION = re.compile(r"division|cities|city|places|districts", re.I)
_PARENT = re.compile(r"\[in ([^\]]+)\]")


@dataclass(frozen=True)
class Places:
    pairs: tuple[tuple[str, str], ...]  # (english, chinese)
    parents: dict[str, str]  # chinese place -> the division holding it (成都 -> 四川省)


@lru_cache(maxsize=2)
def _places(path: Path) -> Places:
    pairs, parents, in_places, parent = [], {}, False, None
    if not path.is_file():
        return Places((), {})
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_places = bool(_PLACE_SECTION.search(line)) and "english" not in line.lower()
            holder = _PARENT.search(line)
            parent = holder.group(1).strip() if holder else None
        elif in_places and "\t" in line:
            english, chinese = (part.strip() for part in line.split("\t", 1))
            if english and chinese:
                pairs.append((english.lower(), chinese))
                if parent:
                    parents[chinese] = parent
    return Places(tuple(pairs), parents)


def place_names(path: Path = GLOSSARY_FILE) -> tuple[tuple[str, str], ...]:
    """(english, chinese) pairs from the glossary's place sections."""
    return _places(path).pairs


def place_parent(place: str, path: Path = GLOSSARY_FILE) -> str | None:
    """The division holding ``place`` (成都 -> 四川省), when the glossary says."""
    return _places(path).parents.get(place)


def places_in(text: str, path: Path = GLOSSARY_FILE) -> set[str]:
    """The places ``text`` names, as their Chinese form (one name may be spelt several ways). English
    names are read as the query translation reads them, longest glossary phrase first: in
    "Chengdu-Chongqing" (成渝) neither Chengdu nor Chongqing is named on its own."""
    chinese_places = {chinese for _, chinese in place_names(path)}
    folded, lowered = fold_t2s(text), text.lower().replace("’", "'")
    found = {chinese for chinese in chinese_places if chinese in folded}
    if path.is_file() and re.search(r"[a-z]", lowered):
        pattern, mapping = _load(path)
        found |= {mapping[m.group()] for m in pattern.finditer(lowered)} & chinese_places
    # A longer name contains a shorter one (武侯区 / 武侯): keep the shorter, it is what must match.
    return {p for p in found if not any(q != p and q in p for q in found)}


def names_place(wanted: str, named: set[str] | frozenset[str], region: str | None = None) -> bool:
    """Whether text naming ``named`` (and belonging to ``region``) is about ``wanted``: it names
    it, or a place within it (成都 is in 四川), or its document's region is it."""
    if any(wanted in place or place in wanted for place in named) or (region and wanted in region):
        return True  # 武侯区 asked, 武侯 named: the same place by its shorter name
    return any(wanted in (place_parent(place) or "") for place in named)
