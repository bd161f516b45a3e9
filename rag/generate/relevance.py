"""Whether what an answer cites is about the question: the evidence model's rating of a cited
span, and whether a citation names the terms a question requires. Used by the verifier
(``rag.generate.verify``) after citations are found to be supported."""

from __future__ import annotations

from collections.abc import Sequence

from rag.generate.answer_features import match_form
from rag.generate.answer_model import Assessment
from rag.generate.candidates import context_of
from rag.textnorm import detect_language, fold_t2s, sentence_spans
from rag.types import Citation, Passage


def names_all(citation: Citation, passages: list[Passage], required: Sequence[str]) -> bool:
    """The cited sentence, or its document title and section, holds every required term."""
    passage = next((p for p in passages if p.chunk_id == citation.chunk_id), None)
    sentence = _sentence_around(passage, citation) if passage else citation.span
    context = fold_t2s(f"{sentence} {context_of(passage) if passage else ''}").lower()
    return all(match_form(t) in context for t in required)


def span_probability(assessment: Assessment, passages: list[Passage], citation: Citation) -> float:
    """The evidence model's best probability among the sentences that overlap ``citation``'s span;
    a span no candidate covers (the English twin quoted from a bilingual passage, whose Chinese
    sentences are the candidates) gets the best of its document's."""
    indexes = {i for i, p in enumerate(passages) if p.chunk_id == citation.chunk_id}
    rated = list(zip(assessment.candidates, assessment.probabilities.tolist(), strict=True))
    overlapping = [
        p
        for c, p in rated
        if c.passage_index in indexes and c.start < citation.span_end and c.end > citation.span_start
    ]
    if overlapping:
        return max(overlapping)
    if _is_english(citation.span):  # an English twin: rated as its document's best Chinese sentence
        same_document = {i for i, p in enumerate(passages) if p.doc_id == citation.doc_id}
        return max((p for c, p in rated if c.passage_index in same_document), default=0.0)
    return 0.0


def _is_english(text: str) -> bool:
    return detect_language(text) == "en"


def _sentence_around(passage: Passage, citation: Citation) -> str:
    """The passage's sentences that overlap the cited span (a quote may be a clause of one)."""
    pieces = [
        passage.text[a:b]
        for a, b in sentence_spans(passage.text)
        if a < citation.span_end and b > citation.span_start
    ]
    return " ".join(pieces) or citation.span
