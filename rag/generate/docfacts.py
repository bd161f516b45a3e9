"""Questions about a document itself: when it was issued, its document number, who issued it, to
whom it is addressed, and for a news report its outlet, reporter and editor. Those facts stand in
the document's header and byline lines ("四川省人民政府办公厅2020-06-01", "川办函〔2020〕31号",
"来源:中新网四川 编辑:曹惠君", "(记者 张立东)"), which the evidence model, trained on encyclopaedia
paragraphs, never saw: they are found here by rule, in the lines of the retrieved passages, and
quoted with their marker like any answer. Pure text rules; no thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.question import Question
from rag.textnorm import fold_t2s
from rag.types import Passage

# What a question asks about a document (the question is script-folded and lower-cased first).
_ASKS = {
    "issued": r"(?:哪天|哪一天|何时|什么时候|日期|哪年|哪个月|时间)\S{0,4}(?:印发|发布|发出|发表|刊发|出台|下发|成文)"
    r"|(?:印发|发布|发出|发表|刊发|出台|下发|成文)(?:的)?(?:日期|时间)"
    r"|\bwhen (?:was|were|did)\b.{0,60}\b(?:issued?|publish(?:ed)?|released?|dated)\b|\bdate of (?:issue|publication)\b",
    "doc_number": r"文号|发文字号|文件编号|document number|reference number|file number",
    "issuer": r"(?:哪个|哪家|什么|哪些)(?:部门|单位|机关|机构)(?:印发|发布|发出|下发)|谁(?:印发|发布|下发)|发文机关|发文单位"
    r"|\bwho issued\b|\bissued by\b|\bwhich (?:office|body|department|authority|organi[sz]ation) issued\b"
    r"|\bissuing (?:body|authority|office)\b",
    "addressees": r"发给|主送|下发给|印发给|addressed to|\bsent to\b|\brecipients?\b",
    "source": r"(?:哪家|什么|哪个)媒体|(?:报道|文章|新闻|消息|这篇|本文)\S{0,8}(?:来源|出处|出自)"
    r"|\bwhich (?:media|outlet|newspaper|news (?:agency|outlet|site))\b|\boutlet\b"
    r"|\bsource of (?:the|this) (?:report|article|news)\b",
    "reporter": r"记者|\breporter\b|\bjournalist\b",
    "editor": r"编辑|责编|\beditor\b",
}
_ASK_RES = {fact: re.compile(pattern, re.I) for fact, pattern in _ASKS.items()}
_HEADER_CHARS = 80  # header and byline lines are short; a longer line is running text
_ADDRESSEES = re.compile(r"^\s*各[^。]{2,60}[:：]\s*$")
_SOURCE = re.compile(
    r"来源\s*[:：]\s*([^\s:：]{2,20}?)(?=\s|编辑|责编|$)|^\s*([\u4e00-\u9fff]{2,12}?)\d{4}-\d{2}-\d{2}\s*$"
)
_REPORTER = re.compile(r"记者\s*[:：]?\s*([\u4e00-\u9fff]{2,3})(?=[\s)）,，、]|$)")
_EDITOR = re.compile(r"(?:编辑|责编)\s*[:：]\s*([\u4e00-\u9fff]{2,4})")
_LINE = re.compile(r"[^\n]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
# The question points at a document: "这份通报", "该报道", "the notification" … (or names its title).
_THIS_DOCUMENT = re.compile(
    r"(?:这|该|此|本)(?:份|篇|个|则|条|项)?(?:通报|通知|意见|报道|文件|文章|新闻|消息|办法|规划|方案|决定|公告|会议报道)"
    r"|\bth(?:e|is) (?:notification|notice|circular|opinions?|report|article|news|document|measures|plan|decision)\b",
    re.I,
)
_TITLE = re.compile(r"《([^》]{2,80})》")


@dataclass(frozen=True)
class FactLine:
    """A line of a passage that states what was asked about its document."""

    passage_index: int
    start: int  # offsets of the line in the passage
    end: int
    highlights: tuple[tuple[int, int], ...]  # the facts inside it (passage offsets)


def asked_facts(question: Question) -> tuple[str, ...]:
    """The document facts ``question`` asks for ("issued", "doc_number", …), in a fixed order."""
    folded = fold_t2s(question.text).lower()
    asked = [fact for fact, pattern in _ASK_RES.items() if pattern.search(folded)]
    if question.kind == "doc_number" and "doc_number" not in asked:
        asked.append("doc_number")
    return tuple(asked)


def fact_lines(question: Question, passages: list[Passage]) -> list[FactLine]:
    """The lines stating every fact the question asks about a document, all from the best-ranked
    document that states them all; empty when the question asks none or no document states them."""
    asked = asked_facts(question)
    if not asked:
        return []
    for doc_id in dict.fromkeys(p.doc_id for p in passages):
        if not _refers_to(question, next(p for p in passages if p.doc_id == doc_id)):
            continue
        found: dict[str, FactLine] = {}
        for index, passage in enumerate(passages):
            if passage.doc_id != doc_id:
                continue
            for fact in asked:
                if fact not in found and (line := _line_stating(fact, passage, index, question)):
                    found[fact] = line
        if len(found) == len(asked):
            return _merged(list(found.values()))
    return []


# Facts a header or byline line states; such a line answers only a question about the document.
_HEADER_FACTS = ("issued", "doc_number", "source", "editor", "reporter")


def states_document_fact(passage: Passage, start: int, end: int) -> bool:
    """Whether ``passage.text[start:end]`` is a header or byline line of its document (its date of
    issue, number, outlet, editor or reporter: "2024年11月16日 14:11 来源:中新网四川 编辑:曹惠君",
    "川办函〔202031", "CBH [2020] No. 31") rather than a sentence of its content."""
    line = passage.text[start:end]
    if len(line.strip()) > _HEADER_CHARS:
        return False
    folded = fold_t2s(line)
    if len(folded) != len(line):
        folded = line
    return any(
        _fact_in(fact, folded, passage, english) is not None
        for fact in _HEADER_FACTS
        for english in (False, True)
    )


def _refers_to(question: Question, passage: Passage) -> bool:
    """Whether the question asks about this document, not about one it mentions: it says "this
    notice" (and quotes no other title), or it names four characters in a row of the title."""
    folded = fold_t2s(question.text)
    title = fold_t2s(passage.title or "")
    quoted = _TITLE.findall(folded)
    if quoted:
        return any(q in title or title.endswith(q) for q in quoted)
    if _THIS_DOCUMENT.search(folded):
        return True
    compact = re.sub(r"\W", "", folded)
    return len(title) >= 4 and any(compact[i : i + 4] in title for i in range(len(compact) - 3))


def _merged(lines: list[FactLine]) -> list[FactLine]:
    """One FactLine per distinct line, with the highlights of every fact it states."""
    by_line: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for line in lines:
        by_line.setdefault((line.passage_index, line.start, line.end), []).extend(line.highlights)
    return [FactLine(i, a, b, tuple(sorted(set(h)))) for (i, a, b), h in sorted(by_line.items())]


def _line_stating(fact: str, passage: Passage, index: int, question: Question) -> FactLine | None:
    """The first header line of ``passage`` stating ``fact``; for an English question, an English
    line (a bilingual document's translation, "CBH [2020] No. 31") before a Chinese one."""
    english = question.language == "en"
    stating = []
    for match in _LINE.finditer(passage.text):
        line = match.group()
        if len(line.strip()) > _HEADER_CHARS:
            continue
        folded = fold_t2s(line)
        if len(folded) != len(line):  # offsets of the folded line must be the line's
            folded = line
        span = _fact_in(fact, folded, passage, english)
        if span is not None:
            a, b = span
            stating.append(
                FactLine(index, match.start(), match.end(), ((match.start() + a, match.start() + b),))
            )
    if english:
        stating.sort(key=lambda f: bool(_CJK.search(passage.text[f.start : f.end])))
    return stating[0] if stating else None


def _fact_in(fact: str, line: str, passage: Passage, english: bool) -> tuple[int, int] | None:
    """Where in ``line`` it states ``fact`` of its document, or None."""
    if fact == "issued" and passage.date:
        return _find(line, passage.date)
    if fact == "doc_number" and passage.doc_number:
        return _doc_number_in(line, passage.doc_number, english)
    if fact == "issuer" and passage.issuer:
        return _find(line, passage.issuer)
    if fact == "addressees" and _ADDRESSEES.match(line):
        return (len(line) - len(line.lstrip()), len(line.rstrip().rstrip(":：")))
    patterns = {"source": _SOURCE, "reporter": _REPORTER, "editor": _EDITOR}
    if fact in patterns and (found := patterns[fact].search(line)):
        group = next(g for g in range(1, (found.re.groups or 0) + 1) if found.group(g))
        return found.span(group)
    return None


def _find(line: str, value: str) -> tuple[int, int] | None:
    at = line.find(value)
    return (at, at + len(value)) if at >= 0 else None


_DOC_NUMBER_PARTS = re.compile(r"^(\D+?)\s*[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]?\s*(\d+)")


def _doc_number_in(line: str, doc_number: str, english: bool) -> tuple[int, int] | None:
    """The document's number in ``line``: as recorded ("川办函〔2020〕31号"), as printed with a
    bracket lost ("川办函〔202031"), or its English form for an English question ("[2020] No. 31")."""
    parts = _DOC_NUMBER_PARTS.match(fold_t2s(doc_number))
    if english and parts:
        found = re.search(rf"\[\s*{parts.group(2)}\s*\]\s*No\.\s*{parts.group(3)}\b", line)
        if found:
            return found.span()
    exact = _find(line, doc_number)
    if exact or not parts:
        return exact
    prefix, year, number = (re.escape(p) for p in parts.groups())
    found = re.search(rf"{prefix}\s*[〔\[［(（]?\s*{year}\s*[〕\]］)）]?\s*{number}(?:\s*[号號])?", line)
    return found.span() if found else None
