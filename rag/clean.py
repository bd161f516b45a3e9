"""Clean stage: the text users see in citations, without conversion debris and website chrome.

Each rule answers a quirk of real inputs (see data/corpus/README.md):
pinyin ruby left inline (``國(guó)``), replacement characters from broken conversions (``�`` or a
stray ``?`` between Chinese characters, sometimes with an orphaned ruby ``?qū)``), website chrome
(breadcrumbs, share buttons, copyright footers) and whole blocks repeated within a document.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rag.types import Document

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN = rf"[a-zü{_TONED}]{{1,6}}"
_RUBY_TONED = re.compile(rf"(?<=[{_CJK}])\((?=[a-zü{_TONED}]*[{_TONED}])({_PINYIN})\)")
_RUBY_ANY = re.compile(rf"(?<=[{_CJK}])\(({_PINYIN})\)")
_BROKEN_RUBY = re.compile(rf"[?\ufffd]{_PINYIN}\)")
_STRAY_REPLACEMENT = re.compile(
    rf"\ufffd|(?<=[{_CJK}\d])\?(?=[{_CJK}\d])|(?<=[{_CJK}])\?$|(?<=[{_CJK}])[<>](?=[、，。；])"
)

# Whole lines that are page furniture, not content.
_CHROME_LINE = re.compile(
    r"^(?:"
    r"打印|放大|缩小|关闭|关闭窗口|分享|分享到|收藏|微信|微博|客户端|头条号|手机版|电脑版|返回顶部|上一篇|下一篇"
    r"|打印\s*放大\s*缩小|手机版\s*电脑版|【?字体[:：].*|扫一扫在手机打开当前页|Baidu|map|[^\s]{2,12}正文"
    r"|责任编辑[:：].*|責任編輯[:：].*|编辑[:：]\S{2,4}"
    r"|-+\s*\S*版[权權]所有\s*-*|.*版[权權]所有.*|Copyright.*|©.*"
    r")$"
)
_BREADCRUMB = re.compile(r"(?:\s*[^>\n]{1,20}\s+>){2,}")
# A footer heading after which nothing is content (disclaimers, site operator, contact details).
_FOOTER_START = re.compile(r"版[权權]与?與?免[责責][声聲]明|^主办单位[:：]|^主辦單位[:：]|^网站标识码|^ICP备")
_MIN_REPEAT_LEN = 8  # shorter lines (e.g. "五、保障措施") may legitimately recur


def strip_ruby(text: str) -> str:
    """Remove pinyin ruby; toneless syllables go too once the text is clearly ruby-annotated."""
    annotated = len(_RUBY_TONED.findall(text)) >= 5
    text = _BROKEN_RUBY.sub("", text) if annotated else text
    return (_RUBY_ANY if annotated else _RUBY_TONED).sub("", text)


def remove_replacement_chars(text: str) -> str:
    """Drop U+FFFD and ``?`` standing in for a lost Chinese character."""
    return _STRAY_REPLACEMENT.sub("", text)


def is_chrome(line: str) -> bool:
    stripped = line.strip().lstrip("•·●▪◆■-–").strip()
    if not stripped:
        return False
    return bool(_CHROME_LINE.match(stripped) or _BREADCRUMB.match(stripped + " "))


def _clean_line(line: str) -> str:
    line = line.replace("\u00a0", " ").replace("\u3000", " ").strip()
    return re.sub(r"^[•●▪◆■]\s*", "", line).strip()


def drop_repeated(lines: list[str]) -> list[str]:
    """Keep the first occurrence of every substantial line (a repeated article collapses to one)."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = re.sub(r"\s+", "", line)
        if len(key) >= _MIN_REPEAT_LEN and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return kept


def clean_text(text: str) -> str:
    """The cleaned text: one paragraph per line, separated by blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = remove_replacement_chars(strip_ruby(text))
    lines = []
    for raw in text.split("\n"):
        line = _clean_line(raw)
        if not line:
            continue
        if _FOOTER_START.search(line) and lines:
            break
        if is_chrome(line) or line in "【】[]":
            continue
        lines.append(line)
    return "\n\n".join(drop_repeated(lines))


def clean(document: Document) -> Document:
    """Clean stage: the same document with cleaned text (metadata and hashes unchanged)."""
    return replace(document, text=clean_text(document.text))
