"""Decode text bytes whose encoding nobody declared (or declared wrongly).

A byte-order mark decides; otherwise strict UTF-8 when the result reads plausibly; otherwise every
candidate (GB18030, Big5, what charset-normalizer suggests) is decoded and scored by how readable
the result is. Big5 bytes are mostly valid GB18030 too, so "it decodes" proves nothing: the score
(share of frequent and common Chinese characters, penalties for control and private-use
characters) is what tells the right codec from a wrong one.
"""

from __future__ import annotations

import codecs
import logging
import unicodedata
from functools import lru_cache

import charset_normalizer

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CJK_ENCODINGS = ("gb18030", "big5", "cp950", "big5hkscs")
_OTHER_CJK_CODECS = ("shift_jis", "cp932", "euc_j", "iso2022", "cp949", "euc_kr", "johab")
_WIDER_ENCODING = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950"}
# Frequent characters of policy texts in both scripts: a wrong CJK codec rarely produces them.
_FREQUENT_HAN = frozenset(
    "务服业区展的建发和生化设体动推成城进新活市等大一加国品域要创会合共文地育实力重领提高政性中游公消费平"
    "质民行强快为产商心制社能旅人导施都际全造用省以升与系有经点项面持引色度企府融作集保现方济基机构医开部"
    "态组特优标在资养级信水主协出聚准形工学验培场打居健议源川代乐圈对好境各时定家多增通交式疗康天三技关范"
    "示支向型闲渝互促科供绿休同调局入四步山统理自老教金批功精求牌双小具记目环台相立带核策流应网物次坚分总"
    "是不了我他这个们来上到说就可也你而子那得于着下之年过后里道所然种事么去法如当没起看还其些样她本前但因"
    "只从想日者意无它长把十第此已使情明知又正外将两间由问很最并手头美见被利什二或己身果務業區發設體動進國"
    "創會實領遊費質強為爲產導際與經點項現濟機構醫開態組優標資養級協準學驗場議樂對時療關範閒綠調統雙記環臺"
    "帶應網堅總這個們來說於著過後裡裏種麼當沒還樣從無長將兩間問並頭見"
)
_MIN_PLAUSIBILITY = 0.5
_SAMPLE_CHARS = 20_000


class UndecodableTextError(ValueError):
    """No encoding turns the bytes into readable text (a binary file, most likely)."""


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode text bytes: a BOM, else plausible strict UTF-8, else the most plausible candidate.

    ``declared`` (an HTML meta charset) is the first candidate and wins ties, but a page that
    declares ISO-8859-1 over GBK bytes still comes out as Chinese.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    without_nul = _without_stray_nul(data)
    utf8 = _decode_or_none(without_nul, "utf-8") if without_nul is not None else None
    if utf8 is not None and _plausibility(utf8) >= _MIN_PLAUSIBILITY:
        return utf8
    preferred = [_WIDER_ENCODING.get(declared.lower(), declared)] if declared else []
    try:
        return _best_guess(data, preferred)
    except UndecodableTextError:
        if utf8 is None:
            raise
        return utf8  # valid UTF-8 that merely looks odd (symbols, rare script) is still UTF-8


def _without_stray_nul(data: bytes) -> bytes | None:
    """The bytes without NULs when a few stray ones sit inside text; None when they look like the
    high bytes of UTF-16 (many, or all at even or all at odd offsets) or binary data."""
    count = data.count(0)
    if not count:
        return data
    if count * 20 > len(data):
        return None
    even = data[0::2].count(0)
    if min(even, count - even) < count // 4:
        return None
    return data.replace(b"\x00", b"")


def _best_guess(data: bytes, preferred: list[str]) -> str:
    best: tuple[float, str, str] | None = None
    for encoding in _candidate_encodings(data, preferred):
        text = _decode_or_none(data, encoding)
        if text is None:
            continue
        score = _plausibility(text)
        logger.debug("encoding %s scores %.3f", encoding, score)
        if best is None or score > best[0]:
            best = (score, encoding, text)
    if best is None or best[0] < _MIN_PLAUSIBILITY:
        raise UndecodableTextError("undecodable text: no encoding gives readable text (binary file?)")
    return best[2]


def _decode_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _candidate_encodings(data: bytes, preferred: list[str]) -> list[str]:
    """The declared charset, GB18030 and Big5 first (ties go to the earlier), then what
    charset-normalizer suggests minus Japanese and Korean codecs, which turn short Chinese byte
    runs into other kanji."""
    suggested = [match.encoding for match in charset_normalizer.from_bytes(data)][:4]
    extra = ["utf-16-le", "utf-16-be"] if b"\x00" in data else []
    names: dict[str, str] = {}
    for encoding in [*preferred, *_CJK_ENCODINGS, *suggested, *extra]:  # on a tie the earlier one wins
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            continue
        if encoding in preferred or not name.replace("-", "_").startswith(_OTHER_CJK_CODECS):
            names.setdefault(name, encoding)
    return list(names.values())


def _plausibility(text: str) -> float:
    """Mean per-character readability: frequent CJK, ASCII and punctuation score 1, other common
    CJK 0.8; rare CJK, kana and symbols (typical of a wrong CJK codec) little; control and
    private-use characters below 0."""
    scores = [_char_score(ch) for ch in text[:_SAMPLE_CHARS] if not ch.isspace()]
    return sum(scores) / len(scores) if scores else 0.0


@lru_cache(maxsize=65_536)
def _char_score(ch: str) -> float:
    code = ord(ch)
    if code < 0x80:
        return 1.0 if ch.isprintable() else -5.0
    if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        return 1.0 if ch in _FREQUENT_HAN else 0.8 if _is_common_han(ch) else 0.3
    category = unicodedata.category(ch)
    if category in ("Cc", "Co", "Cs", "Cn") or ch == "\ufffd":
        return -5.0
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or 0x2000 <= code <= 0x206F:
        return 1.0
    return 0.8 if category.startswith("L") and code < 0x250 else 0.3


def _is_common_han(ch: str) -> bool:
    """In GB2312 (levels 1 and 2) or Big5 level 1: the characters real text is made of."""
    try:
        if ch.encode("gb2312")[0] >= 0xB0:
            return True
    except UnicodeEncodeError:
        pass
    try:
        encoded = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xA440 <= int.from_bytes(encoded, "big") <= 0xC67E
