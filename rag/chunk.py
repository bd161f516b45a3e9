"""Chunk stage: sentence-aware passages with section paths, bilingual pairs and table rows kept
whole."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.tables import is_row
from rag.textnorm import cjk_count, detect_language, is_chinese, sentence_spans
from rag.types import Chunk, Document

_HEADING_LEVELS = (
    re.compile(r"^#{1,6}\s+\S"),  # markdown
    re.compile(r"^[一二三四五六七八九十百]+、"),
    re.compile(r"^[(（][一二三四五六七八九十]+[)）]"),
    re.compile(r"^(?:\d+|[①-⑳])[.、．]\S"),
)
_MAX_HEADING_CHARS = 40
_TERMINAL = "。！？；.!?;:："
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # as rag.textnorm counts them


def text_weight(text: str) -> int:
    """Approximate token count: a Chinese character ~1 token, an English word ~1.3 tokens."""
    cjk = cjk_count(text)
    other = len(re.sub(r"\s", "", text)) - cjk
    return cjk + other // 4


@dataclass(frozen=True)
class _Unit:
    """Sentences that must stay in one chunk (one sentence, or a Chinese/English pair)."""

    start: int
    end: int
    weight: int
    paired: bool = False


class Chunker:
    """``Chunker(size=300, overlap=1)(document) -> list[Chunk]``.

    ``size`` is the target weight (≈ tokens, ≈ Chinese characters) of a chunk; ``max_weight`` is the
    hard ceiling, kept under the embedding model's 512-token window.
    """

    def __init__(self, *, size: int = 300, overlap: int = 1, max_weight: int = 460) -> None:
        if size < 20:
            raise ValueError(f"chunk size must be at least 20; got {size}")
        if overlap < 0:
            raise ValueError(f"overlap must be 0 or more sentences; got {overlap}")
        if max_weight < size:
            raise ValueError(f"max_weight ({max_weight}) must be at least the size ({size})")
        self.size, self.overlap, self.max_weight = size, overlap, max_weight

    def __call__(self, document: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section, units in _sections(document.text, self):
            for start, end in self._pack(units):
                chunks.append(self._make_chunk(document, section, start, end, len(chunks)))
        return _with_ids(chunks)

    def _pack(self, units: list[_Unit]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        current: list[_Unit] = []
        for unit in units:
            weight = sum(u.weight for u in current)
            if current and weight + unit.weight > self.size:
                spans.append((current[0].start, current[-1].end))
                current = self._overlap_tail(current, unit)
            current.append(unit)
        if current:
            spans.append((current[0].start, current[-1].end))
        return spans

    def _overlap_tail(self, previous: list[_Unit], nxt: _Unit) -> list[_Unit]:
        if not self.overlap or nxt.paired:
            return []
        tail = [u for u in previous[-self.overlap :] if not u.paired]
        if sum(u.weight for u in tail) + nxt.weight > self.size or len(tail) == len(previous):
            return []
        return tail

    def _make_chunk(self, document: Document, section: str, start: int, end: int, position: int) -> Chunk:
        text = document.text[start:end]
        return Chunk(
            chunk_id="",
            doc_id=document.doc_id,
            position=position,
            text=text,
            start=start,
            end=end,
            section=section,
            language=_chunk_language(text),
        )

    def split_long(self, start: int, end: int, text: str) -> list[_Unit]:
        """A sentence over the ceiling is cut at commas, or failing that, at the ceiling.

        Linear in the sentence's length: the weight of any stretch comes from prefix sums, and
        each cut looks at most ``4 * max_weight`` characters ahead (a 1 MB line without a full
        stop used to be re-weighed from each cut to its end: quadratic)."""
        weight = text_weight(text[start:end])
        if weight <= self.max_weight:
            return [_Unit(start, end, weight)]
        weights = _PrefixWeights(text, start, end)
        pieces: list[_Unit] = []
        cursor = start
        while cursor < end:
            stop = _cut_point(text, cursor, end, self.max_weight, weights)
            pieces.append(_Unit(cursor, stop, weights.weight(cursor, stop)))
            cursor = stop
        return pieces


class _PrefixWeights:
    """``text_weight(text[a:b])`` in O(1) for ``start <= a <= b <= end``, and where a cut must
    fall so that a piece stays under a weight (prefix sums over the code points)."""

    def __init__(self, text: str, start: int, end: int) -> None:
        import numpy as np

        segment = text[start:end]
        points = np.frombuffer(segment.encode("utf-32-le"), dtype=np.uint32)
        cjk = np.zeros(len(points), dtype=bool)
        for low, high in _CJK_RANGES:
            cjk |= (points >= low) & (points <= high)
        space = np.zeros(len(points), dtype=bool)
        space[[m.start() for m in re.finditer(r"\s", segment)]] = True
        self.start, self.end = start, end
        self.cjk = np.concatenate(([0], np.cumsum(cjk, dtype=np.int64)))
        self.visible = np.concatenate(([0], np.cumsum(~space, dtype=np.int64)))
        # the cut's own measure: a CJK character weighs 1, any other character (spaces too) 1/4
        self.quarters = np.concatenate(([0], np.cumsum(np.where(cjk, 4, 1), dtype=np.int64)))

    def weight(self, a: int, b: int) -> int:
        a, b = a - self.start, b - self.start
        cjk = int(self.cjk[b] - self.cjk[a])
        return cjk + (int(self.visible[b] - self.visible[a]) - cjk) // 4

    def furthest(self, a: int, max_weight: int) -> int:
        """The largest ``b`` with the characters ``a..b`` weighing at most ``max_weight``."""
        import numpy as np

        offset = a - self.start
        limit = self.quarters[offset] + 4 * max_weight
        return self.start + int(np.searchsorted(self.quarters, limit, side="right")) - 1


def _cut_point(text: str, start: int, end: int, max_weight: int, weights: _PrefixWeights) -> int:
    if weights.weight(start, end) <= max_weight:
        return end
    stop = min(weights.furthest(start, max_weight), end)
    comma = max(text.rfind(c, start, stop) for c in "，,、")
    return comma + 1 if comma > start + (stop - start) // 2 else max(stop, start + 1)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text)]


def _heading_level(line: str) -> int | None:
    if len(line) > _MAX_HEADING_CHARS or line.rstrip()[-1:] in _TERMINAL:
        return None
    for level, pattern in enumerate(_HEADING_LEVELS):
        if pattern.match(line):
            return len(line) - len(line.lstrip("#")) if level == 0 else level
    return None


def _sections(text: str, chunker: Chunker) -> list[tuple[str, list[_Unit]]]:
    """Group the sentence units by section; headings update the section path."""
    result: list[tuple[str, list[_Unit]]] = []
    path: list[tuple[int, str]] = []
    units: list[_Unit] = []
    paragraphs = _paragraphs(text)
    i = 0
    while i < len(paragraphs):
        start, end = paragraphs[i]
        if is_row(text[start:end]):  # a table row (rag.tables) is one unit, never split
            units.extend(chunker.split_long(start, end, text))
            i += 1
            continue
        level = _heading_level(text[start:end])
        if level is not None:
            if units:
                result.append((_path_text(path), units))
                units = []
            path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, text[start:end].strip())]
            i += 1
            continue
        pair = _bilingual_pair(text, paragraphs, i)
        if pair and text_weight(text[start : pair[1]]) <= chunker.max_weight:
            units.append(_Unit(start, pair[1], text_weight(text[start : pair[1]]), paired=True))
            i += 2
            continue
        for s, e in sentence_spans(text, start, end):
            units.extend(chunker.split_long(s, e, text))
        i += 1
    if units:
        result.append((_path_text(path), units))
    return result


def _bilingual_pair(text: str, paragraphs: list[tuple[int, int]], i: int) -> tuple[int, int] | None:
    """A Chinese paragraph directly followed by its English translation."""
    if i + 1 >= len(paragraphs):
        return None
    first, second = (text[s:e] for s, e in paragraphs[i : i + 2])
    if is_chinese(first) and not is_chinese(second) and cjk_count(first) >= 4:
        english_letters = len(re.findall(r"[A-Za-z]", second))
        if english_letters >= cjk_count(first):  # a translation, not a stray English label
            return paragraphs[i + 1]
    return None


def _path_text(path: list[tuple[int, str]]) -> str:
    return " > ".join(title for _, title in path)


def _chunk_language(text: str) -> str:
    """'zh-Hans', 'zh-Hant', 'en', or e.g. 'zh-Hans+en' for a bilingual passage."""
    chinese = re.sub(r"[A-Za-z]", "", text)
    has_chinese = cjk_count(text) >= 20
    has_english = len(re.findall(r"[A-Za-z]{3,}", text)) >= 10
    if has_chinese and has_english:
        return detect_language(chinese) + "+en"
    return detect_language(chinese) if has_chinese else "en"


def _with_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Ids from content: doc, section, text and which repeat of that text this is."""
    seen: dict[str, int] = {}
    out = []
    for chunk in chunks:
        key = f"{chunk.doc_id}\x00{chunk.section}\x00{chunk.text}"
        seen[key] = seen.get(key, -1) + 1
        digest = hashlib.sha256(f"{key}\x00{seen[key]}".encode()).hexdigest()[:16]
        out.append(_replace_id(chunk, f"{chunk.doc_id}:{digest}"))
    return out


def _replace_id(chunk: Chunk, chunk_id: str) -> Chunk:
    from dataclasses import replace

    return replace(chunk, chunk_id=chunk_id)


def chunk(document: Document, *, size: int = 300, overlap: int = 1) -> list[Chunk]:
    """Chunk stage as a function."""
    return Chunker(size=size, overlap=overlap)(document)
