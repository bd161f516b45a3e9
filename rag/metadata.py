"""Document metadata from raw text: title, date, document number, source, language, and for
official documents the issuing body (发文机关), type (通知/意见/…/新闻), region and date of effect.

The inputs are real-world and messy: web navigation chrome around the article, pinyin ruby
annotations (``國(guó)``), bilingual Chinese/English lines, and dates and document numbers that lost
characters in conversion (``202061`` is 2020-06-01, ``川办函〔202031`` is 川办函〔2020〕31号).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from rag.clean import strip_ruby
from rag.glossary import place_parent, places_in
from rag.textnorm import detect_language
from rag.types import DocumentMeta

logger = logging.getLogger(__name__)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR_RE = re.compile(f"[{_HAN}]")

_DATE_PATTERNS = (
    re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"),
)
_DATE_LABEL_RE = re.compile(
    r"(?:成文日期|发文日期|發文日期|印发日期|发布日期|發布日期|发布时间|發布時間|時間|时间)\s*[:：]\s*"
)
_BROKEN_DATE_LINE_RE = re.compile(r"^((?:19|20)\d{2})(\d{2,4})$")

_OPEN, _CLOSE = r"[〔\[［(（【]", r"[〕\]］)）】]"
_DOC_NO_RE = re.compile(
    rf"(?<![{_HAN}])([{_HAN}]{{1,8}})\s*{_OPEN}\s*((?:19|20)\d{{2}})\s*{_CLOSE}\s*第?\s*(\d{{1,5}})\s*号"
)
_BROKEN_DOC_NO_RE = re.compile(
    rf"^([{_HAN}]{{1,8}})\s*{_OPEN}\s*((?:19|20)\d{{2}})\s*{_CLOSE}?\s*(\d{{1,5}})\s*号?$"
)
# Words that run into an issuer code in body text: 根据国发〔2019〕5号 -> 国发〔2019〕5号.
_LEAD_IN_RE = re.compile(r"^(?:根据|按照|依据|依照|对照|参照|贯彻|落实|印发|转发|详见|见)")

_SOURCE_LABEL_RE = re.compile(r"(?:来源|來源|稿源|发布机构|發布機構|发文机关|發文機關)\s*[:：]\s*")
_SOURCE_STOP_RE = re.compile(r"\s|编辑|編輯|作者|责任编辑|責任編輯|时间|時間|[|｜,，;；:：、()（）\"“”]")
_PUBLISHER_DATE_RE = re.compile(rf"^([{_HAN}]{{2,30}})\s*(?:(?:19|20)\d{{2}}[-/.年])")

_BREADCRUMB_RE = re.compile(r"^(?:首页|首頁|主页|主頁|当前位置|當前位置|您的位置|您現在的位置|您现在的位置)")
_CHROME_WORDS = ("打印", "放大", "缩小", "字体", "字體", "分享到", "扫一扫", "掃一掃", "责任编辑", "責任編輯")
_HEAD_LINES = 15  # non-empty lines that count as "the top" of a document
_HEADER_LINE_CHARS = 40  # a header line (文号, date, source) is short; body paragraphs are not
_LONE_DATE_CHARS = 20
_MAX_TITLE_CHARS = 150


def extract_metadata(text: str, *, filename: str = "", html_title: str | None = None) -> DocumentMeta:
    """Read title, date, document number, source and language off a document's raw text."""
    plain = strip_ruby(text)
    lines = [line.strip(" \t\u3000•·") for line in plain.splitlines()]
    lines = [line for line in lines if line]
    title = _title_from_hint(html_title) or _find_title(lines) or (Path(filename).stem or None)
    date, source = _find_date(plain, lines), _find_source(plain, lines)
    issuer = _find_issuer(plain, lines, title)
    return DocumentMeta(
        title=title,
        date=date,
        doc_number=_find_doc_number(lines),
        source=source,
        language=document_language(plain),
        issuer=issuer,
        doc_type=_find_type(title, source),
        region=_find_region(issuer, source, title) or region_from_places(plain),
        effective_date=_find_effective_date(plain, date),
        supersedes=SUPERSEDES_SEPARATOR.join(find_supersedes(plain)) or None,
    )


# --- title -------------------------------------------------------------------------------------


def _title_from_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    title = _chinese_part(strip_ruby(hint).strip())
    return title or None


def _find_title(lines: list[str]) -> str | None:
    for line in lines[:_HEAD_LINES]:
        if _is_chrome(line) or _is_date_or_source_line(line) or _is_issuer_line(line):
            continue
        candidate = _chinese_part(line)
        if len(candidate) <= _MAX_TITLE_CHARS and "。" not in candidate:
            return candidate
    return None


def _is_issuer_line(line: str) -> bool:
    """A red header (``XX人民政府办公厅文件``), an issuer's name alone or a document number line:
    not the title."""
    if _DOC_NO_RE.fullmatch(line) or _BROKEN_DOC_NO_RE.match(line):
        return True  # the document number line
    return bool(_RED_HEADER_RE.match(line) or (len(line) <= 30 and _SIGNATURE_RE.match(line)))


def _chinese_part(line: str) -> str:
    """For a line holding a Chinese title followed by its English translation, keep the Chinese."""
    end = len(line)
    while end and not _HAN_CHAR_RE.match(line[end - 1]):
        end -= 1
    latin = re.search(r"[A-Za-z]", line[end:])
    if end and latin and len(line[end + latin.start() :].split()) >= 3:
        return line[: end + latin.start()].rstrip(" :：-—|")
    return line


def _is_chrome(line: str) -> bool:
    separators = sum(line.count(sep) for sep in (">", "›", "»", "＞"))
    if separators >= 2 or (separators and _BREADCRUMB_RE.match(line)):
        return True
    if line.endswith("正文") and len(line) <= 20:
        return True
    if len(line) <= 30 and any(word in line for word in _CHROME_WORDS):
        return True
    return len(re.sub(rf"[^{_HAN}A-Za-z]", "", line)) < 4


def _is_date_or_source_line(line: str) -> bool:
    if _SOURCE_LABEL_RE.search(line) or _DATE_LABEL_RE.match(line):
        return True
    head = line[:40]
    return any(pattern.search(head) for pattern in _DATE_PATTERNS) and len(line) <= 60


# --- date --------------------------------------------------------------------------------------


def _find_date(text: str, lines: list[str]) -> str | None:
    """Near the top, a labelled date (时间:, 成文日期: …) wins over the first date; failing both,
    a lone date line (an official document's signature date, possibly broken), then any date."""
    head = "\n".join(lines[:_HEAD_LINES])
    for label in _DATE_LABEL_RE.finditer(head):
        after = head[label.end() : label.end() + 20]
        found = _first_date(after) if after[:4].isdigit() else None
        if found:
            return found
    found = _first_date("\n".join(x for x in lines[:_HEAD_LINES] if len(x) <= 60 and "。" not in x))
    if found:  # a date in a short header line; one inside a body sentence is not the document's
        return found
    for line in reversed(lines):
        found = repair_date(line) if _BROKEN_DATE_LINE_RE.match(line) else None
        found = found or (_first_date(line) if len(line) <= _LONE_DATE_CHARS else None)
        if found:
            return found
    return _first_date(text)


def _first_date(text: str) -> str | None:
    best: tuple[int, str] | None = None
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            iso = _iso(*(int(group) for group in match.groups()))
            if iso and (best is None or match.start() < best[0]):
                best = (match.start(), iso)
                break
    return best[1] if best else None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def repair_date(digits: str) -> str | None:
    """Repair a date that lost its separators (``202061`` -> ``2020-06-01``).

    Only an unambiguous run is repaired: exactly one split of the digits after the year into a
    valid month and day. ``2020111`` could be 2020-01-11 or 2020-11-01, so it gives None.
    """
    match = _BROKEN_DATE_LINE_RE.match(digits.strip())
    if not match:
        return None
    year, rest = int(match.group(1)), match.group(2)
    candidates = set()
    for cut in (1, 2):
        month, day = rest[:cut], rest[cut:]
        if not 1 <= len(day) <= 2:
            continue
        iso = _iso(year, int(month), int(day))
        if iso:
            candidates.add(iso)
    if len(candidates) != 1:
        if candidates:
            logger.debug("ambiguous broken date %r: %s", digits, sorted(candidates))
        return None
    return candidates.pop()


# --- document number ---------------------------------------------------------------------------


def _find_doc_number(lines: list[str]) -> str | None:
    """The document's own number stands near the top, on its own line or in a short header line
    (``川办函〔2020〕31号``, repaired from ``川办函〔202031``); numbers cited in the body are not it."""
    head = lines[:_HEAD_LINES]
    for line in head:
        whole = _DOC_NO_RE.fullmatch(line) or _BROKEN_DOC_NO_RE.match(line)
        if whole:
            return _format_doc_number(*whole.groups())
    for line in head:
        match = _DOC_NO_RE.search(line) if len(line) <= _HEADER_LINE_CHARS else None
        if match:
            return _format_doc_number(*match.groups())
    return None


def parse_doc_number(text: str) -> str | None:
    """Normalise a document number to ``机关代字〔年份〕序号号``, repairing the broken form."""
    text = text.strip()
    match = _DOC_NO_RE.search(text) or _BROKEN_DOC_NO_RE.match(text)
    return _format_doc_number(*match.groups()) if match else None


def _format_doc_number(prefix: str, year: str, serial: str) -> str:
    prefix = _LEAD_IN_RE.sub("", prefix) or prefix
    return f"{prefix}〔{year}〕{int(serial)}号"


# --- source ------------------------------------------------------------------------------------


def _find_source(text: str, lines: list[str]) -> str | None:
    head = "\n".join(lines[:_HEAD_LINES])
    found = _labelled_source(head)
    if found:
        return found
    for line in lines[:_HEAD_LINES]:
        match = _PUBLISHER_DATE_RE.match(line)
        if match:
            return match.group(1)
    return _labelled_source(text)


def _labelled_source(text: str) -> str | None:
    for label in _SOURCE_LABEL_RE.finditer(text):
        rest = text[label.end() : label.end() + 60]
        value = _SOURCE_STOP_RE.split(rest, maxsplit=1)[0].strip("。.·-— ")
        if 2 <= len(value) <= 30:
            return value
    return None


# --- issuer, type, region, date of effect ------------------------------------------------------

_ORG = r"(?:人民政府|政府|办公厅|办公室|委员会|委|厅|局|院|部|署|中心|党组|省委|市委|县委|区委|协会|集团)"
_ISSUER_LABEL_RE = re.compile(
    rf"(?:发文机关|發文機關|发布机关|制发机关)\s*[:：]\s*([{_HAN}\s]{{2,60}}?{_ORG})"
)
_RED_HEADER_RE = re.compile(rf"^([{_HAN}\s]{{2,60}}?{_ORG})\s*文件$")
_TITLE_ISSUER_RE = re.compile(rf"^([{_HAN}\s、]{{2,60}}?{_ORG})\s*关于")
_SIGNATURE_RE = re.compile(rf"^[{_HAN}\s]{{2,60}}{_ORG}$")
_TYPES = (
    "实施方案", "通知", "通报", "意见", "办法", "规划", "方案", "决定", "公告", "通告", "规定", "条例",
    "细则", "批复", "报告", "纲要", "计划", "指南", "指引", "函",
)  # fmt: skip
_NEWS_SOURCE_RE = re.compile(r"新闻|新聞|网|網|报|報|社|日报|电视|電視|媒体|頭條|头条")
_REGION_RE = re.compile(rf"^([{_HAN}]{{1,6}}?(?:省|自治区|市|自治州|州|县|縣|区|區))")
_NOT_REGION_RE = re.compile(r"(?:园|園|聚|景|社|片|功能|校|小|厂|矿)[区區]$")
_EFFECT_RE = re.compile(
    r"自\s*((?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*起\s*(?:施行|执行|实施|生效|试行)"
    r"|自\s*(?:印发|发布|公布|发文|印發|發布)\s*之日\s*起\s*(?:施行|执行|实施|生效|试行)"
)


def _find_issuer(text: str, lines: list[str], title: str | None) -> str | None:
    """发文机关: a label, a red header (``XX人民政府办公厅文件``), the title's ``XX关于…``, or the
    signature line standing just above the closing date."""
    label = _ISSUER_LABEL_RE.search(text)
    if label:
        return _squash(label.group(1))
    for line in lines[:_HEAD_LINES]:
        header = _RED_HEADER_RE.match(line)
        if header:
            return _squash(header.group(1))
    prefix = _TITLE_ISSUER_RE.match(title or "")
    if prefix:
        return _squash(prefix.group(1))
    tail = lines[-8:]
    for i, line in enumerate(tail[:-1]):
        dated = any(p.search(after) for p in _DATE_PATTERNS for after in tail[i + 1 : i + 3])
        if _SIGNATURE_RE.match(line) and len(line) <= _HEADER_LINE_CHARS and dated:
            return _squash(line)
    return None


def _squash(name: str) -> str:
    return " ".join(name.split())


def _find_type(title: str | None, source: str | None) -> str | None:
    """The kind of document its title ends with (``…的通知`` is a 通知), else 新闻 when it comes
    from a news outlet."""
    stripped = (title or "").rstrip("》」』”\"' ")
    for kind in _TYPES:
        if stripped.endswith(kind):
            return "方案" if kind == "实施方案" else kind
    if source and _NEWS_SOURCE_RE.search(source):
        return "新闻"
    return None


def _find_region(issuer: str | None, source: str | None, title: str | None) -> str | None:
    """The place an issuer, source or title starts with (四川省人民政府 -> 四川省)."""
    for text in (issuer, source, title):
        match = _REGION_RE.match(text or "")
        if match and not _NOT_REGION_RE.search(match.group(1)):
            return match.group(1)
    return None


def region_from_places(text: str) -> str | None:
    """The division holding the places a document names, when they all lie in one (a news report
    that names 成都, 绵阳 and 宜宾 but says only "省" of its province is a 四川省 document); at
    least two places must say so, and none may lie outside it."""
    named = places_in(text)
    holders = {place_parent(p) or "" for p in named if place_parent(p)}
    outside = [p for p in named if not place_parent(p) and not any(p in h for h in holders)]
    if len(holders) != 1 or outside or sum(1 for p in named if place_parent(p)) < 2:
        return None
    return holders.pop()


def _find_effective_date(text: str, issued: str | None) -> str | None:
    """``自2020年7月1日起施行`` gives that date; ``自印发之日起施行`` the date of issue."""
    match = _EFFECT_RE.search(text)
    if not match:
        return None
    return _first_date(match.group(1)) if match.group(1) else issued


# --- what the document repeals or replaces (rag.supersede links them) -------------------------

SUPERSEDES_SEPARATOR = "；"
_REPEAL = r"(?:同时|即行|予以|一并)?(?:废止|廢止|停止执行|不再执行|失效)"
_SUPERSEDE_PATTERNS = (
    re.compile(rf"《([^》]{{4,80}})》\s*(?:[（(]([^）)]{{4,30}})[）)])?\s*{_REPEAL}"),
    re.compile(r"废止\s*《([^》]{4,80})》(?:\s*[（(]([^）)]{4,30})[）)])?"),
    re.compile(rf"原\s*([^，。；、《》\s]{{4,60}}?)\s*{_REPEAL}"),
)


def find_supersedes(text: str) -> list[str]:
    """Titles and numbers of the documents ``text`` says it repeals or replaces
    (``《…》同时废止``, ``废止《…》``, ``原…不再执行``); numbers normalised."""
    found: list[str] = []
    for pattern in _SUPERSEDE_PATTERNS:
        for match in pattern.finditer(text):
            for group in filter(None, match.groups()):
                reference = parse_doc_number(group) or group.strip()
                if reference not in found:
                    found.append(reference)
    return found


# --- language ----------------------------------------------------------------------------------


def document_language(text: str) -> str | None:
    """``zh-Hans``, ``zh-Hant``, ``en``, or ``zh-Hans+en``/``zh-Hant+en`` for bilingual text.

    One Chinese character carries about as much as three English letters, so the letter count is
    divided by three before the shares are compared; each language needs a quarter to count.
    """
    text = strip_ruby(text)
    han = re.findall(f"[{_HAN}]", text)
    latin = len(re.findall(r"[A-Za-z]", text))
    zh_weight, en_weight = len(han), latin / 3
    total = zh_weight + en_weight
    if total < 1:
        return None
    zh_share = zh_weight / total
    if zh_share < 0.25:
        return "en"
    script = detect_language("".join(han))
    return f"{script}+en" if zh_share <= 0.75 else script
