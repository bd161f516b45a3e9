"""Filters on document metadata, applied inside retrieval (never after the top-k is cut).

One :class:`Filter` comes from the CLI (``--where 'issuer=四川省人民政府办公厅' --since 2020-01-01
--until 2021-12-31``), the API (a ``filter`` object in the request) or the UI; the retriever turns
it into a Chroma ``where`` clause for dense search and into the set of matching documents for the
keyword index, so both rankings only ever see passages inside the filter.

Keys: ``issuer`` (发文机关), ``region`` (地区), ``type`` (类型: 通知, 意见, …, 新闻), ``number``
(文号) and ``doc`` (document id); ``a|b`` matches either value. Dates: ``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD``; a date filter leaves out documents without a date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# filter key -> chunk metadata field (rag.index._chunk_metadata); Chinese names accepted too
FIELDS = {"issuer": "issuer", "region": "region", "type": "doc_type", "number": "doc_number", "doc": "doc_id"}
ALIASES = {
    "发文机关": "issuer", "發文機關": "issuer", "地区": "region", "地區": "region", "类型": "type",
    "類型": "type", "doc_type": "type", "文号": "number", "文號": "number", "doc_number": "number",
    "doc_id": "doc", "文档": "doc",
}  # fmt: skip
_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


@dataclass(frozen=True)
class Filter:
    """``equals``: metadata field -> accepted values; ``since``/``until``: ISO dates, inclusive."""

    equals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    since: str | None = None
    until: str | None = None
    description: str = field(default="", compare=False)

    @property
    def empty(self) -> bool:
        return not self.equals and self.since is None and self.until is None

    def chroma_where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause (None for an empty filter)."""
        clauses: list[dict[str, Any]] = []
        for name, values in self.equals:
            clauses.append({name: values[0]} if len(values) == 1 else {name: {"$in": list(values)}})
        if self.since:
            clauses.append({"date_num": {"$gte": _number(self.since)}})
        if self.until:
            clauses.append({"date_num": {"$lte": _number(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """Whether a chunk (its stored metadata) is inside the filter: what the where clause says."""
        for name, values in self.equals:
            if metadata.get(name) not in values:
                return False
        date = metadata.get("date_num")
        if (self.since or self.until) and not isinstance(date, int):
            return False
        if self.since and date < _number(self.since):
            return False
        return not (self.until and date > _number(self.until))


def make_filter(*, where: Iterable[str] = (), since: str | None = None, until: str | None = None) -> Filter:
    """A Filter from ``key=value`` conditions (repeatable, or joined by ``;``) and a date range;
    ValueError naming what is wrong."""
    equals: dict[str, tuple[str, ...]] = {}
    for condition in (c for text in where for c in str(text).split(";")):
        if not condition.strip():
            continue
        key, sep, value = condition.partition("=")
        key, value = key.strip(), value.strip()
        if sep and key in ("since", "until", "起", "止"):  # one text can carry the dates too (the UI)
            since, until = (value, until) if key in ("since", "起") else (since, value)
            continue
        name = FIELDS.get(ALIASES.get(key, key))
        if not sep or name is None:
            known = ", ".join(FIELDS)
            raise ValueError(f"--where takes key=value with a key among {known}; got {condition!r}")
        values = tuple(v.strip() for v in value.split("|") if v.strip())
        if not values:
            raise ValueError(f"--where {key}= needs a value; got {condition!r}")
        equals[name] = values
    start = _date(since, "since", last=False) if since else None
    end = _date(until, "until", last=True) if until else None
    if start and end and start > end:
        raise ValueError(f"--since {since!r} is after --until {until!r}")
    parts = [*(f"{k}={'|'.join(v)}" for k, v in equals.items())]
    parts += [f"since {start}"] if start else []
    parts += [f"until {end}"] if end else []
    return Filter(tuple(sorted(equals.items())), start, end, "; ".join(parts))


def filter_from_request(data: Any) -> Filter | None:
    """The API's ``filter`` field: ``{"issuer": "…", "type": ["通知", "意见"], "since": "2020"}``."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ValueError(f"filter must be an object of key: value; got {data!r}")
    data = dict(data)
    since, until = data.pop("since", None), data.pop("until", None)
    where = []
    for key, value in data.items():
        values = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"filter {key} must be text or a list of texts; got {value!r}")
        where.append(f"{key}={'|'.join(values)}")
    for name, value in (("since", since), ("until", until)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"filter {name} must be a date as text (YYYY-MM-DD); got {value!r}")
    built = make_filter(where=where, since=since, until=until)
    return None if built.empty else built


def _date(text: str, name: str, *, last: bool) -> str:
    match = _DATE_RE.fullmatch(str(text).strip())
    try:
        if not match:
            raise ValueError
        year, month, day = int(match.group(1)), match.group(2), match.group(3)
        m = int(month) if month else (12 if last else 1)
        d = int(day) if day else (calendar.monthrange(year, m)[1] if last else 1)
        return dt.date(year, m, d).isoformat()
    except ValueError:
        raise ValueError(f"--{name} takes a date YYYY, YYYY-MM or YYYY-MM-DD; got {text!r}") from None


def _number(iso: str) -> int:
    return int(iso.replace("-", ""))


# --- the CLI (rag search / rag ask) ----------------------------------------------------------------


def add_filter_arguments(parser: Any) -> None:
    """``--where KEY=VALUE`` (repeatable), ``--since DATE``, ``--until DATE`` on an argparse parser."""
    keys = ", ".join(FIELDS)
    parser.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE", help=f"only documents with this {keys}"
    )
    parser.add_argument("--since", metavar="DATE", help="only documents issued on or after (YYYY[-MM[-DD]])")
    parser.add_argument("--until", metavar="DATE", help="only documents issued on or before")


def filter_from_args(args: Any) -> Filter | None:
    built = make_filter(
        where=getattr(args, "where", None) or (),
        since=getattr(args, "since", None),
        until=getattr(args, "until", None),
    )
    return None if built.empty else built
