"""Direct answers: find, inside the sentence that answers, the thing the question asks for (the
number with its unit, the date, the document number, the person, the enumerated items), and the
part of a long sentence worth quoting around it. Pure text rules over ``rag.question.Question``;
no thresholds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.question import Question
from rag.textnorm import fold_t2s

_NUMERAL = r"(?:\d+(?:[.,]\d+)*|[零〇一二两兩三四五六七八九十百千万萬亿億]{1,8})"
_UNIT = (
    r"(?:\s*(?:%|％|‰|多|余|餘|万|萬|亿|億|千|百)?\s*(?:[个個项項家条條名位次所座户戶人元米吨噸亩畝倍年月天日]|"
    r"平方(?:公里|米)|公里|千米|万元|亿元|萬元|億元|percent|per cent|million|billion|thousand|hundred)?)"
)
_QUANTITY = re.compile(rf"{_NUMERAL}{_UNIT}", re.I)
_DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号號]|\d{4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*\d{1,2}\s*[日号號]"
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{4}\s*年|\d{1,2}\s*[日号號](?=召开|召開|举行|舉行|发布|發布|印发|印發|电|電)"
    r"|(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}"
    r"(?:,\s*\d{4})?|\b(?:19|20)\d{2}\b",
    re.I,
)
_DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,8}[〔\[［(（]\s*\d{4}\s*[〕\]］)）]?\s*\d+\s*[号號]?|[A-Z]{2,8}\s*\[\d{4}\]\s*No\.\s*\d+"
)
_PERSON = re.compile(
    r"(?:书记|書記|省长|省長|市长|市長|区长|區長|主任|部长|部長|厅长|廳長|局长|局長|主席|组长|組長|总理|總理|委员|委員|记者|記者|编辑|編輯|责编|責編)"
    r"\s*[:：]?\s*([\u4e00-\u9fff]{2,3})(?=主持|出席|讲话|講話|表示|强调|強調|指出|说|說|介绍|介紹|参加|參加|调研|調研|[，,、。\s)）]|$)"
)
_ITEMS = re.compile(
    r"[^，,。；;：:、\s“”「」]{1,24}(?:、[^，,。；;：:、\s“”「」]{1,24}){1,}(?:(?:和|及|与|與|以及|等)[^，,。；;：:、\s]{1,24})?"
)
_QUOTED = re.compile(r"《[^》]{2,40}》|“[^”]{2,30}”|「[^」]{2,30}」")
_CLAUSE_END = re.compile(r"[，,；;：:]")
_UNIT_OF_QUESTION = re.compile(
    r"(?:多少|几|幾)\s*([个個项項家条條名位次所座户戶人元米吨噸亩畝倍年天]|万|萬|亿|億)"
)
# A question about money (an investment, a budget, a cost) is answered by an amount of money. Of the
# CMRC trial and DRCD dev number questions these words find, every gold sentence holds one (4 of 4;
# 花费/spend left out: "花费多少时间" asks for a time).
_MONEY_QUESTION = re.compile(
    r"投资|投資|资金|資金|经费|經費|金额|金額|预算|預算|造价|造價|多少(?:万|萬|亿|億)?元"
    r"|\binvest(?:s|ed|ing|ment)?\b|\bbudget|\bcosts?\b|\bfunding\b|\bhow much money\b",
    re.I,
)
_MONEY = re.compile(
    r"\s*(?:万|萬|亿|億|千|百)?\s*(?:元|美元|人民币|人民幣)|\s*(?:million |billion )?(?:yuan|dollars|RMB)\b",
    re.I,
)
_DETERMINER = re.compile(r"(?:每|这|這|那|某|同|任何|唯)$")
_COUNTED = re.compile(r"[个個项項家条條名位次所座户戶人元米吨噸亩畝倍天万萬亿億]$")
# The verb a date question asks about: "哪天召开" → "召开", "何时印发" → "印发".
_DATE_VERB = re.compile(
    r"(?:哪天|哪一天|哪日|何时|什么时候|几月几[日号]|哪年哪月|哪个月)(?:在|于)?([\u4e00-\u9fff]{2})"
)
_DATELINE = re.compile(r"\s*[电電](?![话話视視脑腦])")
# Quotes longer than this (characters) are cut to the clauses around the answer.
LONG_SENTENCE = 80


@dataclass(frozen=True)
class Found:
    """Answer spans inside a sentence (offsets into the sentence text)."""

    spans: tuple[tuple[int, int], ...]
    kind: str


def find_answer(question: Question, sentence: str) -> Found | None:
    """The spans of ``sentence`` that answer what ``question`` asks for, or None."""
    finder = {
        "number": _number,
        "date": _date,
        "doc_number": _doc_number,
        "person": _person,
        "list": _items,
        "entity": _quoted,
    }.get(question.kind)
    if finder is None:
        return None
    spans = finder(question, sentence)
    return Found(tuple(spans), question.kind) if spans else None


def _number(question: Question, sentence: str) -> list[tuple[int, int]]:
    folded_q = fold_t2s(question.text)
    unit = _UNIT_OF_QUESTION.search(folded_q)
    money = bool(_MONEY_QUESTION.search(folded_q))
    best, best_score = None, -1.0
    for match in _QUANTITY.finditer(sentence):
        text = match.group().strip()
        if not re.search(r"\d|[一二两兩三四五六七八九十]", text) or text in question.years:
            continue
        if not re.search(r"\d", text) and not _COUNTED.search(text):
            continue  # a bare Chinese numeral is a word part ("一带", "十景"), not a quantity
        if text[0] == "一" and _DETERMINER.search(sentence[: match.start()]):
            continue  # "每一个", "这一项": a determiner, not a count
        if re.fullmatch(r"\d{4}\s*年", text) or (text.isdigit() and text in folded_q):
            continue  # a year, or a number the question itself states
        if unit and unit.group(1) not in "年月天日" and re.search(r"[年月日]$", text):
            continue  # "多少个园区" is not answered by a date ("11月16日")
        if re.match(r"\s*[:：]\d", sentence[match.end() :]) or re.search(
            r"\d[:：]$", sentence[: match.start()]
        ):
            continue  # a time of day ("14:11")
        if money and not (text.endswith("元") or _MONEY.match(sentence, match.end())):
            continue  # "投资多少" is not answered by a count ("8个生态中心")
        if re.match(r"[A-Za-z]", sentence[match.end() : match.end() + 1]) and text.isdigit():
            continue  # part of a name ("5G", "4K"), not a quantity
        if _ENUMERATOR.match(sentence) and match.start() < _ENUMERATOR.match(sentence).end():
            continue  # "4.餐饮服务": the item's number in a list, not a quantity
        if _list_total_of_members(question.places, sentence, match.start()):
            continue  # "成都春熙路…、绵阳…等10个": the list's size, not the count of one member
        window = fold_t2s(
            sentence[match.end() : match.end() + 16] + sentence[max(0, match.start() - 8) : match.start()]
        )
        score = sum(len(t) for t in question.terms if t in window.lower())
        if unit and fold_t2s(match.group()).rstrip().endswith(fold_t2s(unit.group(1))):
            score += 10
        if score > best_score:
            best, best_score = (match.start(), match.start() + len(match.group().rstrip())), score
    return [best] if best else []


_ENUMERATOR = re.compile(r"\s*[(（]?\d{1,2}\s*[.．、)）](?!\d)")
_LIST_END = re.compile(r"[。；;！？!?]")  # an enumeration runs on past commas, not past these


def _list_total_of_members(places: tuple[str, ...], sentence: str, at: int) -> bool:
    """Whether the quantity at ``at`` closes an enumeration ("A、B、C等10个…") that holds every
    mention of the question's places: it counts the list, and says nothing of what one of its
    members has ("成都创建了多少个" is not answered by a Sichuan list that names 成都春熙路)."""
    if not places or not sentence[:at].rstrip().endswith("等"):
        return False
    folded = fold_t2s(sentence)
    ends = [m.end() for m in _LIST_END.finditer(folded, 0, at)]
    start = ends[-1] if ends else 0
    if "、" not in folded[start:at]:
        return False
    for place in places:
        mentions = [m.start() for m in re.finditer(re.escape(place), folded)]
        if not mentions or any(not start <= m < at for m in mentions):
            return False
    return True


def _date(question: Question, sentence: str) -> list[tuple[int, int]]:
    """The date the question's verb follows ("哪天召开" → the date before "召开"), else the
    longest; a news dateline ("11月16日电") only when nothing else is dated."""
    matches = [m for m in _DATE.finditer(sentence) if m.group().strip() not in question.years]
    if not matches:
        return []
    verb = _DATE_VERB.search(fold_t2s(question.text))
    cue = verb.group(1) if verb else None

    def score(m: re.Match) -> tuple[int, int, int]:
        after = fold_t2s(sentence[m.end() : m.end() + 4])
        return (bool(cue) and cue in after, not _DATELINE.match(sentence, m.end()), len(m.group()))

    best = max(matches, key=score)
    return [(best.start(), best.end())]


def _doc_number(question: Question, sentence: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _DOC_NUMBER.finditer(sentence)][:2]


def _person(question: Question, sentence: str) -> list[tuple[int, int]]:
    names = [(m.start(1), m.end(1)) for m in _PERSON.finditer(sentence)]
    folded_q = fold_t2s(question.text)
    return [s for s in names if fold_t2s(sentence[s[0] : s[1]]) not in folded_q][:3]


def _items(question: Question, sentence: str) -> list[tuple[int, int]]:
    runs = list(_ITEMS.finditer(sentence))
    if not runs:
        return []
    best = max(runs, key=lambda m: m.group().count("、"))
    return [(best.start(), best.end())]


def _quoted(question: Question, sentence: str) -> list[tuple[int, int]]:
    folded_q = fold_t2s(question.text)
    return [
        (m.start(), m.end()) for m in _QUOTED.finditer(sentence) if fold_t2s(m.group()[1:-1]) not in folded_q
    ][:2]


def quote_window(sentence: str, spans: tuple[tuple[int, int], ...], question: Question) -> tuple[int, int]:
    """The part of ``sentence`` to quote: all of it when short; otherwise from the nearest clause
    before the answer that names a question term (at most two clauses back) to the end of the
    answer's clause, or, when none before does, on to the first clause after it that does."""
    if len(sentence) <= LONG_SENTENCE or not spans:
        return 0, len(sentence)
    cuts = [0, *(m.end() for m in _CLAUSE_END.finditer(sentence)), len(sentence)]
    clauses = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    first = next(i for i, (a, b) in enumerate(clauses) if a <= spans[0][0] < b)
    last = next(i for i, (a, b) in enumerate(clauses) if a < spans[-1][1] <= b)

    def names_a_term(index: int) -> bool:
        a, b = clauses[index]
        clause = fold_t2s(sentence[a:b]).lower()
        for s, e in spans:  # the answer itself does not count
            if a <= s and e <= b:
                clause = clause.replace(fold_t2s(sentence[s:e]).lower(), " ")
        return any(t in clause for t in question.terms if len(t) >= 2)

    start, end = first, last
    back = next((i for i in range(first, max(-1, first - 3), -1) if names_a_term(i)), None)
    if back is not None:
        start = back
    else:  # nothing before the answer says what it is about: look at the clauses after it
        end = next((i for i in range(last, min(len(clauses), last + 3)) if names_a_term(i)), last)
    a, b = clauses[start][0], clauses[end][1]
    if b < len(sentence) and _CLAUSE_END.match(sentence, b - 1):
        b -= 1  # end before the comma that closes the clause
    while a < b and sentence[a].isspace():
        a += 1
    return a, b
