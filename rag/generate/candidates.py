"""The candidates the evidence model scores: the sentences and lines of the retrieved passages,
each read with its passage's context (document title, date, number, section)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.textnorm import detect_language, fold_t2s, sentence_spans
from rag.types import Passage


@dataclass(frozen=True)
class Candidate:
    """A sentence (or heading line) of a retrieved passage."""

    passage_index: int
    index: int  # position among the passage's sentences
    start: int  # offsets in the passage text
    end: int
    text: str
    language: str


def candidates_of(passages: Sequence[Passage]) -> list[Candidate]:
    """Every sentence and line of the passages, in order. Left out: letterless pieces, section
    headings, the document's title line, and English sentences whenever the passages hold Chinese
    ones: the model learnt from Chinese questions and English questions over Chinese text, never
    from English text (an English question rated English sentences of a bilingual notice near 1
    whatever they said), so the Chinese sentences are scored and an English question is then
    quoted the English twin (``rag.generate.extractive``). English-only passages keep theirs."""
    found = _all_candidates(passages)
    if any(c.language != "en" for c in found):
        return [c for c in found if c.language != "en"]
    return found


def _all_candidates(passages: Sequence[Passage]) -> list[Candidate]:
    found = []
    for p, passage in enumerate(passages):
        title = fold(passage.title or "")
        headings = {fold(h) for h in passage.section.split(" > ") if h}
        sentences = [(i, a, b, passage.text[a:b]) for i, (a, b) in enumerate(sentence_spans(passage.text))]
        languages = [detect_language(text) for *_, text in sentences]
        bilingual = "en" in languages and any(language != "en" for language in languages)
        for (i, start, end, text), language in zip(sentences, languages, strict=True):
            folded = fold(text)
            if not re.search(r"\w", text) or folded in headings or (bilingual and language == "en"):
                continue
            if len(title) >= 4 and folded.startswith(title):
                continue  # the title line names the subject; it never answers
            found.append(Candidate(p, i, start, end, text, language))
    return found


def fold(text: str) -> str:
    """Text as the keyword index sees it: script-folded and lower-cased."""
    return fold_t2s(text).lower().replace("’", "'")


def context_of(passage: Passage) -> str:
    """What a sentence of the passage is read with: its document's title, date and number and
    its section ("2020年的通报" asks about the notice dated 2020-06-01)."""
    return " ".join(x for x in (passage.title, passage.date, passage.doc_number, passage.section) if x)
