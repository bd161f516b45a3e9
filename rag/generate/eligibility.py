"""Which candidate sentences can answer a question at all: rules applied to the evidence model's
sentence probabilities (a 0 removes a candidate) before answerability, in training
(``eval/training/fit.py``) as in answering. Each rule says where it was measured."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.generate.answer_features import places_named
from rag.generate.candidates import Candidate, context_of, fold
from rag.generate.direct import find_answer
from rag.generate.docfacts import asked_facts, states_document_fact
from rag.glossary import names_place
from rag.question import Question
from rag.types import Passage

_HEADER_KINDS = ("date", "doc_number", "person")  # what a header or byline line can state


def eligibility(
    question: Question, passages: Sequence[Passage], candidates: Sequence[Candidate]
) -> np.ndarray:
    """Per candidate, 1 when it can answer at all, else 0; applied to the sentence probabilities
    before answerability, in training (``eval/training/fit.py``) as in answering, so its cost on
    answerable training questions is in the held-out quality report. A candidate cannot answer
    when its passage (text, title, section) lacks a place the question names, in either language
    (a question about Guizhou is not answered by a Sichuan notice, however alike the sentences),
    or, for a number question, when it holds no quantity (on CMRC 2018 trial and DRCD dev, 97% and
    93% of gold sentences of number questions hold one by ``rag.generate.direct``'s pattern), or,
    for a document-number question, when it holds no document number (a fact of the document's
    header, which the training data never asks about: "川办函〔2020〕31号"), or
    when its passage never names what a "多少个…" question counts, or when its passage (text,
    title, section, date) lacks a year the question names, or when it is a header or byline line
    (date of issue, 文号, outlet, editor) and the question asks nothing about the document
    itself (``rag.generate.docfacts`` answers those; the training data has no such lines) nor
    for a date, a number or a person, which a dateline or byline may state in words the rules of
    ``docfacts`` miss ("发布《…》的时间是哪天"). A
    passage names a place when it names a place within it (成都 for 四川, by the glossary) or its
    document's region is that place."""
    keep = np.ones(len(candidates))
    if not asked_facts(question) and question.kind not in _HEADER_KINDS:
        keep *= [
            0.0 if states_document_fact(passages[c.passage_index], c.start, c.end) else 1.0
            for c in candidates
        ]
    if question.places:
        named = [
            all(names_place(w, places_named(f"{p.text} {context_of(p)}"), p.region) for w in question.places)
            for p in passages
        ]
        keep *= [1.0 if named[c.passage_index] else 0.0 for c in candidates]
    if question.years:
        # On CMRC 2018 trial 76 of 76 and on DRCD dev 259 of 264 gold paragraphs (with their
        # titles) name every year their question names: "2021年…" is not answered by a 2020 notice.
        # A chunk is shorter than a paragraph: a year its section states elsewhere ("到2022年,…"
        # before the targets) counts when another retrieved passage of that section holds it.
        sections: dict[tuple[str, str], str] = {}
        for p in passages:
            key = (p.doc_id, p.section)
            sections[key] = f"{sections.get(key, '')} {p.text} {context_of(p)} {p.date or ''}"
        named = [all(y in sections[(p.doc_id, p.section)] for y in question.years) for p in passages]
        keep *= [1.0 if named[c.passage_index] else 0.0 for c in candidates]
    if question.kind in ("number", "doc_number"):
        keep *= [1.0 if find_answer(question, c.text) else 0.0 for c in candidates]
        if question.counted:  # "多少个集聚区": a passage that never says 集聚区 counts something else
            counts = [question.counted in fold(f"{p.text} {context_of(p)}") for p in passages]
            keep *= [1.0 if counts[c.passage_index] else 0.0 for c in candidates]
    return keep
