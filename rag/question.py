"""What a question asks for: its language, terms, kind (a number, a date, a person, a list …) and the
years, numbers and places it names. Shared by the evidence model, the direct-answer lead and the
follow-up rules; everything here is text processing, no model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.generate.facts import places_in
from rag.terms import question_term_sets
from rag.textnorm import detect_language, fold_t2s

# Kinds of answer a question asks for, tried in this order (the first that matches wins: "哪一年"
# is a date even though it also says "哪一"). "other" covers why/how and everything else.
KINDS = ("doc_number", "date", "number", "person", "place", "list", "entity", "other")
_KIND_PATTERNS = {
    "doc_number": r"文号|文號|发文字号|發文字號|文件编号|文件編號|document number|reference number|file number",
    "date": r"何时|何時|哪天|哪一天|哪日|什么时候|什麼時候|几月|幾月|哪年|哪一年|何年|哪个月|哪個月|日期|时间是|時間是"
    r"|\bwhen\b|what date|what day|what year|which year|which month|which day",
    "number": r"多少|(?<![哪])[几幾](?![乎])|数量|數量|比例|比重|百分之|多大|多高|多长|多長|多远|多遠|多久"
    r"|how many|how much|how long|how large|how big|how far|what (?:percentage|proportion|share|number)"
    r"|\bnumber of\b|\bwhat (?:is|was|are|were|will be) the (?:total |overall )?(?:value|amount|volume|sum|cost)\b",
    "person": r"谁|誰|哪位|何人|\bwho\b|\bwhom\b|\bwhose\b",
    "place": r"哪里|哪裡|哪儿|哪兒|何处|何處|何地|哪[个個]?(?:城市|省份?|国家|國家|地区|地區|区县|區縣)|\bwhere\b"
    r"|which (?:city|province|country|region|district|county)",
    "list": r"哪些|哪几|哪幾|分别|分別|哪[两兩三四五六七八九十]|包括什么|包括什麼|有什么|有什麼|what are|what were"
    r"|which (?:\w+ ){0,3}(?:are|were|have|did)\b|\blist\b"
    r"|\b(?:which|what) (?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b",
    "entity": r"什么|什麼|哪个|哪個|哪一|哪|何|\bwhat\b|\bwhich\b|\bname\b",
}
_KIND_RES = {kind: re.compile(pattern, re.I) for kind, pattern in _KIND_PATTERNS.items()}
# Why and how questions ask for an explanation, whatever else they say ("为何" is not "何").
_EXPLANATION = re.compile(
    r"为什么|為什麼|为何|為何|原因|如何|怎样|怎樣|怎么|怎麼|why|how(?! (?:many|much|long|large|big|far))",
    re.I,
)
# Question words and what they bind ("哪一天", "哪三个", "多少个", "how many"): they say what is
# asked, not what to look for, so they are not terms a sentence should hold.
_INTERROGATIVE = re.compile(
    r"哪[一两三四五六七八九十几]?[个天年月日位种类些里儿项方面家条座所样届次]*|多少[个项家条名位次]?|[几][个项家条名位次方面]*"
    r"|什么[样]?|是谁|谁|何时|何地|何种|如何|怎样|怎么样?|为什么|为何|是否"
    r"|\b(?:(?:what|which)(?: (?:date|day|year|month|time|kind|kinds|type|types))?|who|whom|whose|when|where"
    r"|why|how(?: many| much| long| large)?)\b",
    re.I,
)
# Greetings and thanks: nothing a document answers.
_SMALL_TALK = re.compile(
    r"\s*(?:hi|hello|hey|thanks?(?: you)?|thank you|good (?:morning|afternoon|evening)|bye|ok(?:ay)?"
    r"|你好|您好|嗨|哈喽|谢谢|謝謝|多谢|多謝|再见|再見|早上好|晚上好|好的)[\s!！.。,，~～?？]*",
    re.I,
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


# Where a compound question divides: after a question mark with more to come, at a Chinese comma
# or 、 that starts another question ("…多少个集聚区、多少个商圈？"), or at "(, ) and" before an
# English question word ("Who spoke, and on which day …?").
_PART_BREAK = re.compile(
    r"(?<=[？?])\s*(?=\S)|[，,、；;]\s*(?=(?:[他她其它该該][们們]?)?\S{0,8}?(?:多少|几|幾|哪|什么|什麼|谁|誰|何时|何時))"
    r"|,?\s+and\s+(?=(?:(?:on|in|at|by|for|from|to|around|of)\s+)?(?:what|which|who|whom|when|where|how)\b)",
    re.I,
)
_ASKS = re.compile(
    r"多少|几|幾|哪|什么|什麼|谁|誰|何时|何時|如何|怎|\b(?:what|which|who|whom|when|where|how)\b", re.I
)
_MAX_PARTS = 4


@lru_cache(maxsize=1024)
def question_parts(text: str) -> tuple[str, ...]:
    """The questions a compound question asks, each standing alone ("成都规划建设多少个服务业集聚区、
    多少个现代商圈？" → "成都规划建设多少个服务业集聚区", "成都规划建设多少个现代商圈？"), or ``(text,)``.
    A part that starts with its question word borrows the words before the first part's
    ("成都规划建设"); a part without a question word is not a question and stays joined."""
    pieces, start = [], 0
    for match in _PART_BREAK.finditer(text):
        if match.start() > start:
            pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    pieces = [p.strip() for p in pieces if p.strip()]
    if len(pieces) < 2 or len(pieces) > _MAX_PARTS or not all(_ASKS.search(p) for p in pieces):
        return (text,)
    first = _ASKS.search(pieces[0])
    lead = pieces[0][: first.start()] if first else ""
    parts = [pieces[0]]
    for piece in pieces[1:]:
        asked = _ASKS.search(piece)
        parts.append(lead + piece if asked and asked.start() == 0 and not piece.isascii() else piece)
    return tuple(parts)


@dataclass(frozen=True)
class Question:
    """A question as the answering stages see it."""

    text: str
    language: str  # zh-Hans, zh-Hant or en
    term_sets: tuple[tuple[str, ...], ...]  # its search terms; an English question also translated
    kind: str  # one of KINDS
    years: tuple[str, ...]  # four-digit years it names
    numbers: tuple[str, ...]  # other numbers it names
    places: tuple[str, ...]  # glossary places it names, as their Chinese form
    phrases: tuple[str, ...] = ()  # adjacent Chinese word pairs ("国际化社区"), script-folded
    counted: str | None = None  # the noun a "多少个…" question counts ("社区"), script-folded

    @property
    def small_talk(self) -> bool:
        """A greeting or thanks, not a question about documents."""
        return bool(_SMALL_TALK.fullmatch(self.text))

    @property
    def terms(self) -> tuple[str, ...]:
        """Every term of every term set, once."""
        return tuple(dict.fromkeys(t for terms in self.term_sets for t in terms))


@lru_cache(maxsize=1024)
def analyse_question(text: str) -> Question:
    """The analysis of ``text`` (cached: the generator, the verifier and the lead all ask)."""
    folded = fold_t2s(text)
    years = tuple(dict.fromkeys(_YEAR.findall(folded)))
    numbers = tuple(n for n in dict.fromkeys(_NUMBER.findall(folded)) if n not in years)
    asked = [m.span() for m in _INTERROGATIVE.finditer(folded.lower())]
    return Question(
        text=text,
        language=detect_language(text),
        term_sets=_term_sets(text, folded.lower(), asked),
        kind=question_kind(folded),
        years=years,
        numbers=numbers,
        places=tuple(sorted(places_in(text))),
        phrases=_phrases(folded, asked),
        counted=_counted(folded),
    )


_COUNTING = re.compile(r"(?:多少|几|幾)\s*[个項项家条名位次所座户人种类]?([\u4e00-\u9fff]{1,12})")


def _counted(folded: str) -> str | None:
    """The head noun of what a "多少个…"/"几…" question counts: the last noun of the first noun
    run after the question word ("多少个国际化社区" → "社区"; a one-character noun joins the word
    before it: "省级现代服务业集聚区" → "集聚区"). On CMRC 2018 trial and DRCD dev it is in 86% /
    64% of gold answer sentences and 17% / 15% of their other sentences with a number (measured
    with two-character heads only)."""
    match = _COUNTING.search(folded)
    if not match:
        return None
    import jieba.posseg

    head, previous = None, None
    for word in jieba.posseg.cut(match.group(1)):
        if word.flag.startswith("n"):
            if len(word.word) >= 2:
                head = word.word
            elif previous:
                head = previous + word.word
        elif not word.flag.startswith(("a", "b", "t", "v")):
            break
        previous = word.word
    return head


_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def _phrases(folded: str, asked: list[tuple[int, int]]) -> tuple[str, ...]:
    """Pairs of adjacent Chinese words of two or more characters, outside the question words.
    Each word may be in the corpus while the pair is not ("国际化" and "社区", never
    "国际化社区"): the pair is what the question is about."""
    import jieba

    words, at = [], 0
    for token in jieba.cut(folded):
        start, at = at, at + len(token)
        clear = not any(a < at and start < b for a, b in asked)
        words.append(token if clear and _CJK_WORD.fullmatch(token) else None)
    pairs = (a + b for a, b in zip(words, words[1:], strict=False) if a and b)
    return tuple(dict.fromkeys(pairs))


def _term_sets(text: str, folded: str, asked: list[tuple[int, int]]) -> tuple[tuple[str, ...], ...]:
    """The search term sets without question words. In the glossary translation of an English
    question the words it could not translate ("established") are left out: a Chinese sentence
    can never hold them."""
    sets = []
    for i, terms in enumerate(question_term_sets(text)):
        content = _content_terms(terms, folded, asked)
        if i > 0:
            content = [t for t in content if not t.isascii()]
        sets.append(tuple(content))
    return tuple(sets)


# How a question asks, not what it asks about: "武侯区提出……时，要突出什么导向" is answered by
# "突出“亩均论英雄”导向", which says neither 提出 nor 时 nor 要. In a small corpus these words
# are rare, so their IDF would make them weigh most in the evidence model's coverage.
FRAME_WORDS = frozenset(
    [
        "时",
        "时候",
        "要",
        "需要",
        "提出",
        "指出",
        "强调",
        "表示",
        "提到",
        "说",
        "称",
        "认为",
        "中",
        "里",
        "上",
        "当中",
        "其中",
        "方面",
        "分别",
        "主要",
        "一共",
        "总共",
        "共",
        "又",
        "还",
        "同时",
    ]
)


def _content_terms(terms: list[str], folded: str, asked: list[tuple[int, int]]) -> list[str]:
    """``terms`` without the frame words and those found only inside the question words."""

    def inside(term: str) -> bool:
        starts = [m.start() for m in re.finditer(re.escape(term), folded)]
        return bool(starts) and all(any(a <= s and s + len(term) <= b for a, b in asked) for s in starts)

    return [t for t in terms if t not in FRAME_WORDS and not inside(t)]


def question_kind(text: str) -> str:
    """The first of ``KINDS`` whose cue words ``text`` holds; "other" when none."""
    folded = fold_t2s(text)
    if _EXPLANATION.search(folded) and not _KIND_RES["number"].search(folded):
        return "other"
    for kind in KINDS[:-1]:
        if _KIND_RES[kind].search(folded):
            return kind
    return "other"
