"""What a sentence holds, per kind of question: a sentence "has" the kind asked for when one of
these patterns finds it (the evidence model's ``has_kind`` feature)."""

from __future__ import annotations

import re

_QUANTITY = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|％|‰|[个個项項家条條名位次所座户戶人元万萬亿億千百倍年月天日公里米吨噸亩畝平方]|"
    r"percent|per cent|million|billion|thousand|hundred|[a-z]+)"
    r"|[零〇一二两兩三四五六七八九十百千万萬亿億]{1,8}[个個项項家条條名位次所座户戶倍]",
    re.I,
)
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月\s*\d{0,2}|\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|[一二三四五六七八九十]{1,3}月"
    r"|(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|\b(?:19|20)\d{2}\b",
    re.I,
)
_DOC_NUMBER = re.compile(r"〔\s*\d{4}|\[\s*\d{4}\s*\]|\d+\s*号|\d+\s*號|\bNo\.\s*\d+", re.I)
_PERSON = re.compile(
    r"书记|書記|省长|省長|市长|市長|区长|區長|主任|部长|部長|厅长|廳長|局长|局長|主席|总理|總理|委员|委員|教授|先生|女士"
    r"|记者|記者|编辑|編輯|责编|責編|作者|院士|董事长|董事長|总经理|總經理|\b(?:Mr|Ms|Mrs|Dr)\b\.?|secretary|governor|mayor",
    re.I,
)
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,6}(?:省|市|县|縣|区|區|州|镇|鎮|乡|鄉|村|街道|国|國)|\b[A-Z][a-z]+ (?:Province|City|District)\b"
)
# Items, numbering, or a sentence that introduces items ("重点在三个方面着力：", "建设三大休闲游憩带").
_LIST = re.compile(
    r"、.+、|[一二三四五六七八九十]是|第[一二三四五六七八九十]|首先|其次|[(（][一二三四五六七八九十\d][)）]|;|；"
    r"|[：:]\s*$|[两兩二三四五六七八九十]\s*(?:大|个方面|個方面|种|種|类|類)"
)
_QUOTED = re.compile(r"《[^》]+》|“[^”]+”|「[^」]+」|\"[^\"]+\"")

HAS = {
    "doc_number": _DOC_NUMBER,
    "date": _DATE,
    "number": _QUANTITY,
    "person": _PERSON,
    "place": _PLACE,
    "list": _LIST,
    "entity": _QUOTED,
}
