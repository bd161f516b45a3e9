"""The latest word: documents that repeal or replace others, and answers that say so.

A document declares what it replaces in its text (``《四川省服务业发展规划(2018—2020年)》同时废止``,
``原…不再执行``, ``废止《…》``) or in its sidecar (``supersedes = ["川办发〔2018〕5号"]``); each
reference is a title (in 《》 or after 原) or a document number. :func:`find_references` reads
them at ingest (``DocumentMeta.supersedes``, references joined by ``；``); :class:`LatestWord`
links them to the indexed documents (by number, title or id) and, after an answer is made, marks
each cited passage of a replaced document (``Passage.superseded_by``) and adds a note in both
languages pointing to the newer document, with its sentence closest to the one cited.

This is a post-step of the pipeline: the generators are not involved.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from rag.metadata import SUPERSEDES_SEPARATOR as SEPARATOR
from rag.textnorm import sentence_spans
from rag.types import Answer, Citation, Passage


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[—–－‐-]+", "-", text)
    return re.sub(r"[\s《》\"'“”]", "", text)


@dataclass(frozen=True)
class Link:
    old: str  # doc_id of the replaced document
    new: str  # doc_id of the document that replaces it
    title: str
    date: str | None
    doc_number: str | None


def link_documents(documents: dict[str, dict[str, Any]]) -> dict[str, Link]:
    """``doc_id -> metadata`` (title, doc_number, date, supersedes) to ``old doc_id -> Link``.

    A reference names a document by its number, its id, or (part of) its title; a document never
    replaces itself nor one issued after it. When several replace one, the newest wins."""
    links: dict[str, Link] = {}
    for new_id, new in documents.items():
        for reference in filter(None, (new.get("supersedes") or "").split(SEPARATOR)):
            key = _key(reference)
            for old_id, old in documents.items():
                if old_id == new_id or not _names(old_id, old, key):
                    continue
                if old.get("date") and new.get("date") and old["date"] > new["date"]:
                    continue
                known = links.get(old_id)
                if known is None or (new.get("date") or "") > (known.date or ""):
                    links[old_id] = Link(
                        old_id, new_id, new.get("title") or new_id, new.get("date"), new.get("doc_number")
                    )
    return links


def series(doc_id: str, documents: dict[str, dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The documents linked to ``doc_id`` through repeals, directly or not, by date:
    ``(doc_id, doc_id of the document that replaced it or None)``; empty when it has no links."""
    links = link_documents(documents)
    neighbours: dict[str, set[str]] = {}
    for link in links.values():
        neighbours.setdefault(link.old, set()).add(link.new)
        neighbours.setdefault(link.new, set()).add(link.old)
    if doc_id not in neighbours:
        return []
    seen, todo = {doc_id}, [doc_id]
    while todo:
        for other in neighbours.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    ordered = sorted(seen, key=lambda d: (documents[d].get("date") or "", d))
    return [(d, links[d].new if d in links else None) for d in ordered]


def _names(doc_id: str, meta: dict[str, Any], key: str) -> bool:
    if len(key) < 4:
        return False
    number = meta.get("doc_number")
    if key in (_key(doc_id), _key(number or "")):
        return True
    title = _key(meta.get("title") or "")
    return bool(title) and (key in title or (len(title) >= 6 and title in key))


class LatestWord:
    """Marks superseded passages in answers, over a knowledge base (links cached per index state)."""

    def __init__(self, kb: Any, retriever: Any) -> None:
        self.kb, self.retriever = kb, retriever
        self._cache: tuple[Any, dict[str, Link]] | None = None

    def links(self) -> dict[str, Link]:
        state = (self.kb.store.count(), getattr(self.kb, "_seen", None))
        if self._cache is None or self._cache[0] != state:
            documents: dict[str, dict[str, Any]] = {}
            for record in self.kb.store.all_metadata():
                meta = record.metadata
                documents.setdefault(meta.get("doc_id", ""), meta)
            self._cache = (state, link_documents(documents))
        return self._cache[1]

    def apply(self, answer: Answer, question: str) -> Answer:
        """The answer with superseded passages marked and, for each superseded citation, a note."""
        with self.kb.reading():
            return self._apply(answer, question)

    def _apply(self, answer: Answer, question: str) -> Answer:
        links = self.links()
        if not links:
            return answer
        passages = [
            replace(p, superseded_by=links[p.doc_id].new) if p.doc_id in links else p for p in answer.passages
        ]
        notes: list[str] = []
        citations = list(answer.citations)
        english = answer.language == "en"
        repealed = {links[c.doc_id].old: links[c.doc_id] for c in answer.citations if c.doc_id in links}
        for link in repealed.values():
            cited = next(c for c in answer.citations if c.doc_id == link.old)
            newer = self._newer(question, link, cited, len(citations) + 1)
            if newer is not None:
                already = _same_sentence(citations, newer[0])
                if already is None:
                    citations.append(newer[0])
                    if all(p.chunk_id != newer[1].chunk_id for p in passages):
                        passages.append(newer[1])
                notes.append(_note(cited, link, already or newer[0], english=english, quote=already is None))
            else:
                notes.append(_note(cited, link, None, english=english, quote=False))
        noted = {(links[c.doc_id].old, links[c.doc_id].new) for c in answer.citations if c.doc_id in links}
        notes += [_conflict_note(a, b, english=english) for a, b in conflicts(citations, noted)]
        if not notes:
            return replace(answer, passages=passages)
        text = answer.text.rstrip() + "\n\n" + "\n".join(notes)
        return replace(answer, text=text, citations=citations, passages=passages)

    def _newer(self, question: str, link: Link, cited: Citation, n: int) -> tuple[Citation, Passage] | None:
        """The newer document's sentence most like the cited one (for the same question)."""
        found = self.retriever.retrieve(question, k=3, doc_ids={link.new}).passages
        best: tuple[float, Passage, tuple[int, int]] | None = None
        for passage in found:
            for span in sentence_spans(passage.text):
                score = _overlap(cited.span, passage.text[span[0] : span[1]])
                if best is None or score > best[0]:
                    best = (score, passage, span)
        if best is None or best[0] <= 0:
            return None
        return Citation.of_span(n, best[1], *best[2]), best[1]


def _overlap(a: str, b: str) -> float:
    grams = lambda s: {s[i : i + 2] for i in range(len(s) - 1)}  # noqa: E731
    left, right = grams(a), grams(b)
    return len(left & right) / max(len(left | right), 1)


def _same_sentence(citations: list[Citation], newer: Citation) -> Citation | None:
    """A citation of the answer that already quotes ``newer``'s sentence."""
    for c in citations:
        if c.chunk_id == newer.chunk_id and c.span_start < newer.span_end and newer.span_start < c.span_end:
            return c
    return None


_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|个|家|项|亿元|万元|万|亿|公里|千米|人|条|座)?")
_SAME_THING = 0.35  # bigram overlap of two cited sentences that speak of the same thing


def conflicts(
    citations: list[Citation], linked: set[tuple[str, str]] = frozenset()
) -> list[tuple[Citation, Citation]]:
    """Pairs of citations from different documents that speak of the same thing with different
    figures (and whose documents are not already linked as old and new), older first."""
    found: list[tuple[Citation, Citation]] = []
    for i, a in enumerate(citations):
        for b in citations[i + 1 :]:
            if a.doc_id == b.doc_id or (a.doc_id, b.doc_id) in linked or (b.doc_id, a.doc_id) in linked:
                continue
            figures_a, figures_b = set(_FIGURE.findall(a.span)), set(_FIGURE.findall(b.span))
            if figures_a and figures_b and figures_a != figures_b and _overlap(a.span, b.span) >= _SAME_THING:
                found.append((a, b) if (a.date or "") <= (b.date or "") else (b, a))
    return found


CONFLICT_ZH = "注意：[{a}]（{date_a}）与 [{b}]（{date_b}）给出的数字不同，请以现行、较新的文件为准。"
CONFLICT_EN = "Note: [{a}] ({date_a}) and [{b}] ({date_b}) give different figures; the newer document is usually the one in force."


def _conflict_note(a: Citation, b: Citation, *, english: bool) -> str:
    unknown = "date unknown" if english else "日期不详"
    template = CONFLICT_EN if english else CONFLICT_ZH
    return template.format(a=a.n, b=b.n, date_a=a.date or unknown, date_b=b.date or unknown)


# The note, in the answer's language (one place for both).
NOTE_ZH = "注意：[{old}] 出自已被废止或替代的文件，现行文件为{title}"
NOTE_EN = "Note: [{old}] cites a document that was repealed or replaced by {title}"


def _note(cited: Citation, link: Link, newer: Citation | None, *, english: bool, quote: bool) -> str:
    facts = ("，" if not english else ", ").join(x for x in (link.doc_number, link.date) if x)
    name = link.title.replace("《", "〈").replace("》", "〉")
    if english:
        text = NOTE_EN.format(old=cited.n, title=name + (f" ({facts})" if facts else ""))
        return text + (f": see [{newer.n}]." if newer is not None else ".")
    text = NOTE_ZH.format(old=cited.n, title=f"《{name}》" + (f"（{facts}）" if facts else ""))
    if newer is None:
        return text + "。"
    return text + (f"：{newer.span} [{newer.n}]" if quote else f"，见 [{newer.n}]。")
