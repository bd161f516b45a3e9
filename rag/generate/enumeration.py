"""The items of an enumeration, for list questions: which sentences of a passage a list answer
quotes. Policy texts list in four ways, tried in this order for the sentence the evidence model
chose:

- a heading that announces a count, its items in the same paragraph: "(三)建设三大休闲游憩带。
  建设龙门山旅游带,…。建设龙泉山…。建设天府绿道…。";
- numbered items, each perhaps followed by sentences that explain it: "1.智慧服务。鼓励…。2.体验服务。
  …" or "一是…二是…" (an English translation's "First, …" lines count as the same list): the
  numbered sentences are quoted, not what explains them;
- items joined by semicolons: "要围绕A,…；围绕B,…；围绕C,…。";
- sentences of one paragraph that begin alike: "健全责任落实链条,…。健全政策支持体系,…。健全考核激励机制,…。";
- nothing: the sentence alone.
Pure text rules; no thresholds.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

# Kinds of numbering; a list is made of sentences numbered the same way.
_NUMBERINGS = {
    "ordinal": r"[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，,、是]?|首先|其次|再次|最后|最後"
    r"|(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Finally)\b",
    "parenthesised": r"[(（][一二三四五六七八九十\d]+[)）]",
    "ideographic": r"[一二三四五六七八九十]+、",
    "arabic": r"\d{1,2}[.、)）](?!\d)",
}
_NUMBERING_RES = {name: re.compile(rf"^\s*(?:{pattern})", re.I) for name, pattern in _NUMBERINGS.items()}
ENUMERATOR = re.compile(r"^\s*(?:" + "|".join(_NUMBERINGS.values()) + ")", re.I)
# A heading that announces how many items follow: "三大休闲游憩带", "六种新形态", "五个方面".
_ANNOUNCES = re.compile(r"[两兩二三四五六七八九十\d]+\s*(?:大|个|個|种|種|类|類|项|項|条|條|方面|项目)")
MAX_ITEMS = 12  # an enumeration longer than this is a section, not a list


def enumeration(sentences: list[Span], text: str, index: int) -> tuple[int, ...] | None:
    """The indexes of the sentences (``sentences`` are spans in ``text``) a list answer quotes
    for the sentence at ``index``: the enumeration it introduces or belongs to, or None."""
    return (
        _announced(sentences, text, index)
        or _numbered(sentences, text, index)
        or _semicolon_joined(sentences, text, index)
        or _parallel(sentences, text, index)
    )


def _sentence(sentences: list[Span], text: str, i: int) -> str:
    return text[sentences[i][0] : sentences[i][1]]


def _numbering(sentence: str) -> str | None:
    return next((name for name, pattern in _NUMBERING_RES.items() if pattern.match(sentence)), None)


def _same_paragraph(sentences: list[Span], text: str, a: int, b: int) -> bool:
    return "\n" not in text[sentences[a][1] : sentences[b][0]]


def _announced(sentences: list[Span], text: str, index: int) -> tuple[int, ...] | None:
    """The chosen sentence, or the head of its paragraph, is a numbered heading announcing a count:
    the heading and the rest of its paragraph."""
    head = index
    while head > 0 and _same_paragraph(sentences, text, head - 1, index):
        head -= 1
    heading = _sentence(sentences, text, head)
    if not (_numbering(heading) and _ANNOUNCES.search(heading) and len(heading) <= 40):
        return None
    end = head
    while end + 1 < len(sentences) and _same_paragraph(sentences, text, head, end + 1):
        end += 1
    items = tuple(range(head, min(end, head + MAX_ITEMS) + 1))
    return items if len(items) >= 3 else None  # the heading and at least two items


def _numbered(sentences: list[Span], text: str, index: int) -> tuple[int, ...] | None:
    """Numbered sentences around the chosen one (or the one it introduces with "："), numbered the
    same way; sentences between them explain an item and are skipped; a sentence numbered another
    way (a heading of another level) ends the list."""
    own = _numbering(_sentence(sentences, text, index))
    introducer = own is None and _sentence(sentences, text, index).rstrip().endswith(("：", ":"))
    if introducer and index + 1 < len(sentences):
        own = _numbering(_sentence(sentences, text, index + 1))
    if own is None:
        return None

    def other(i: int) -> bool:
        numbering = _numbering(_sentence(sentences, text, i))
        return numbering is not None and numbering != own

    items = [index]
    i = -1 if introducer else index - 1
    while i >= 0 and not other(i) and len(items) < MAX_ITEMS:
        if _numbering(_sentence(sentences, text, i)) == own:
            items.insert(0, i)
        elif _sentence(sentences, text, i).rstrip().endswith(("：", ":")) and _numbering(
            _sentence(sentences, text, items[0])
        ):
            items.insert(0, i)  # the sentence that introduces the list
            break
        i -= 1
    i = index + 1
    while i < len(sentences) and not other(i) and len(items) < MAX_ITEMS:
        if _numbering(_sentence(sentences, text, i)) == own:
            items.append(i)
        i += 1
    numbered = [j for j in items if _numbering(_sentence(sentences, text, j)) == own]
    return tuple(items) if len(numbered) >= 2 else None


def _semicolon_joined(sentences: list[Span], text: str, index: int) -> tuple[int, ...] | None:
    """Sentences the splitter cut at "；": the items of one enumeration, the last ending in "。"."""

    def joined(i: int) -> bool:  # sentence i is followed by another item of the same enumeration
        return 0 <= i < len(sentences) - 1 and _sentence(sentences, text, i).rstrip().endswith(("；", ";"))

    if not (joined(index) or joined(index - 1)):
        return None
    start = index
    while joined(start - 1) and index - start < MAX_ITEMS:
        start -= 1
    if start > 0 and _sentence(sentences, text, start - 1).rstrip().endswith(("：", ":")):
        start -= 1  # the sentence that introduces the items
    end = index
    while joined(end) and end - start < MAX_ITEMS:
        end += 1
    return tuple(range(start, end + 1))


_OPENING = re.compile(r"^\s*(?:要|并|並|同时|同時)?([\u4e00-\u9fff]{2})")


def _parallel(sentences: list[Span], text: str, index: int) -> tuple[int, ...] | None:
    """Neighbouring sentences of the chosen one's paragraph that open with the same two characters
    (a verb that heads every item: "健全…。健全…。健全…。")."""

    def opening(i: int) -> str | None:
        match = _OPENING.match(_sentence(sentences, text, i))
        return match.group(1) if match else None

    own = opening(index)
    if own is None:
        return None
    start = end = index
    while start > 0 and opening(start - 1) == own and _same_paragraph(sentences, text, start - 1, index):
        start -= 1
    while (
        end + 1 < len(sentences)
        and opening(end + 1) == own
        and _same_paragraph(sentences, text, index, end + 1)
        and end - start < MAX_ITEMS
    ):
        end += 1
    return tuple(range(start, end + 1)) if end > start else None
