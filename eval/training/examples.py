"""Training cases for the evidence model, built from public QA data (CMRC 2018 trial, DRCD dev and
the project's English questions over CMRC), never from the eval gate (``sichuan.jsonl``).

Every question sits under one gold paragraph, so each gives up to three cases over the passages
the assistant really retrieves for it:

- ``retrieved``: the top-k passages as retrieved. Answerable when a gold passage among them holds
  a gold answer; its sentences holding the answer are the positive sentences.
- ``gold_removed``: the top-k once the gold paragraph's passages are taken out. Unanswerable: what
  is left is on a neighbouring topic (DRCD's other paragraphs of the same article are near misses).
- ``swapped``: the question with its most specific term (the subject, usually) replaced by the
  title of another article, retrieved afresh. Unanswerable: it asks the same thing of something the
  passages do not describe, as "那成都呢？" does of a Sichuan-wide figure.
- ``subject_absent``: the same swapped question over the original passages, gold included.
  Unanswerable: the sentence that answered is still there, but about another subject — the
  follow-up case exactly, where the rewritten question still retrieves the Sichuan passage.

A sentence outside the gold paragraph that happens to contain the answer string is left out of
the sentence model's training (weight 0) rather than called wrong.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from eval.datasets import Dataset, EvalItem
from eval.normalize import contains
from rag.generate.facts import place_names
from rag.question import analyse_question
from rag.textnorm import fold_t2s
from rag.types import Passage

Search = Callable[[str, int], list[Passage]]  # question, k -> passages, best first

CASE_KINDS = ("retrieved", "gold_removed", "swapped", "subject_absent")
SWAPPED = ("swapped", "subject_absent")  # kinds whose sentences answer another question


@dataclass(frozen=True)
class Case:
    dataset: str
    id: str  # question id, suffixed by the case kind
    group: str  # cross-validation group: cases of one gold paragraph never straddle folds
    kind: str  # one of CASE_KINDS
    question: str
    passages: list[Passage]
    answers: tuple[str, ...]
    gold_doc: str
    answerable: bool


def build_cases(
    search: Search,
    idf: Callable[[str], float],
    dataset: Dataset,
    *,
    k: int,
    depth: int = 10,
    swap_share: float = 0.5,
    limit: int | None = None,
    seed: int = 13,
    titles: list[str] | None = None,
    doc_titles: dict[str, str] | None = None,
) -> Iterator[Case]:
    """The cases of ``dataset``, whose corpus ``search`` retrieves from. ``titles`` are the
    subjects swapped in; ``limit`` keeps evenly spread questions up to that many. ``doc_titles``
    gives each paragraph its article's title, as a real document's passages carry theirs (the
    SQuAD files hold paragraphs without their titles)."""
    rng = random.Random(seed)
    items = _spread(dataset.items, limit)
    titled = doc_titles or {}

    def search_titled(question: str, k: int) -> list[Passage]:
        return [replace(p, title=titled.get(p.doc_id, p.title)) for p in search(question, k)]

    for item in items:
        retrieved = search_titled(item.question, depth)
        top = retrieved[:k]
        yield _case(dataset.name, item, "retrieved", item.question, top, _holds_answer(item, top))
        others = [p for p in retrieved if p.doc_id != item.doc][:k]
        if others and not any(_has_any(p.text, item.answer[0]) for p in others):
            yield _case(dataset.name, item, "gold_removed", item.question, others, False)
        if titles and rng.random() < swap_share:
            swapped = _swap_subject(item, top, titles, rng, idf)
            if swapped is not None:
                yield _case(dataset.name, item, "swapped", swapped, search_titled(swapped, k), False)
                yield _case(dataset.name, item, "subject_absent", swapped, top, False)


def _case(name: str, item: EvalItem, kind: str, question: str, passages: list[Passage], ok: bool) -> Case:
    return Case(
        dataset=name,
        id=f"{item.id}:{kind}",
        group=f"{name}:{item.doc}",
        kind=kind,
        question=question,
        passages=list(passages),
        answers=item.answer[0] if item.answer else (),
        gold_doc=item.doc or "",
        answerable=ok,
    )


def _holds_answer(item: EvalItem, passages: list[Passage]) -> bool:
    return any(p.doc_id == item.doc and _has_any(p.text, item.answer[0]) for p in passages)


def _has_any(text: str, answers: tuple[str, ...]) -> bool:
    return any(contains(text, a) for a in answers)


def sentence_label(case: Case, passage: Passage, sentence: str) -> float | None:
    """1 for a gold-paragraph sentence holding a gold answer in an answerable case, 0 for any
    other sentence, None (left out) for a sentence elsewhere that holds the answer string."""
    holds = _has_any(sentence, case.answers)
    if case.answerable and holds and passage.doc_id == case.gold_doc:
        return 1.0
    if holds and case.kind not in SWAPPED:
        return None
    return 0.0


def _spread(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def _swap_subject(
    item: EvalItem,
    passages: list[Passage],
    titles: list[str],
    rng: random.Random,
    idf: Callable[[str], float],
) -> str | None:
    """The question with a place it names replaced by another place, or else its most specific
    term that the gold passage holds replaced by a title, that the retrieved passages never
    mention; None when no such term or title is found."""
    question = analyse_question(item.question)
    placed = _swap_place(item.question, passages, rng)
    if placed is not None or question.language == "en":
        return placed  # English subjects other than places would need English titles
    gold = " ".join(p.text for p in passages if p.doc_id == item.doc)
    folded_question = _fold(item.question)
    if len(folded_question) != len(item.question):
        return None  # offsets of the folded text would not index the question
    present = [t for t in question.terms if len(t) >= 2 and t in _fold(gold) and t in _fold(item.question)]
    if not present:
        return None
    subject = max(present, key=lambda t: (idf(t), len(t)))
    seen = _fold(" ".join(p.text for p in passages))
    for _ in range(20):
        title = rng.choice(titles)
        if title and _fold(title) not in seen and _fold(title) not in folded_question:
            at = folded_question.find(subject)
            return item.question[:at] + title + item.question[at + len(subject) :]
    return None


def _swap_place(text: str, passages: list[Passage], rng: random.Random) -> str | None:
    """``text`` with one glossary place it names (in its own language) replaced by another that
    the passages name in neither language, as "那成都呢？" asks a Sichuan figure of Chengdu."""
    english = analyse_question(text).language == "en"
    lowered, folded = text.lower(), fold_t2s(text)
    if len(folded) != len(text):
        return None
    names = place_names()
    seen = _fold(" ".join(p.text for p in passages))
    named = [
        (en, zh)
        for en, zh in names
        if (re.search(rf"\b{re.escape(en)}\b", lowered) if english else zh in folded)
    ]
    if not named:
        return None
    en, zh = rng.choice(sorted(named))
    others = [(e, z) for e, z in names if z != zh and z not in seen and e not in seen and z not in folded]
    if not others:
        return None
    new_en, new_zh = rng.choice(others)
    if english:
        at = re.search(rf"\b{re.escape(en)}\b", lowered)
        return text[: at.start()] + new_en.title() + text[at.end() :]
    at = folded.find(zh)
    return text[:at] + new_zh + text[at + len(zh) :]


def _fold(text: str) -> str:
    return fold_t2s(text).lower()


def article_titles(path) -> list[str]:
    """Article titles of a SQuAD-format file: the subjects swapped into questions."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    titles = [re.sub(r"\s*[(（].*?[)）]\s*", "", a.get("title", "")).strip() for a in data["data"]]
    return sorted({t for t in titles if 2 <= len(t) <= 12})


def paragraph_titles(path) -> dict[str, str]:
    """Document id (as the eval adapter names a paragraph's file) -> its article's title."""
    import json

    from eval.items import safe_id

    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        safe_id(str(p["id"])): a.get("title", "").strip()
        for a in data["data"]
        for p in a["paragraphs"]
        if a.get("title", "").strip()
    }
