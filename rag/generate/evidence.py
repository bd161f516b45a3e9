"""A passage as citation verification sees it: its sentences (planted instructions set aside, so
they are never evidence), the facts it states, and embeddings computed when first needed."""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np

from rag.embedding.base import Embedder
from rag.generate.facts import evidence_numbers
from rag.textnorm import fold_t2s, sentence_spans
from rag.types import Citation, Passage

INSTRUCTION = re.compile(
    r"(?:ignore|disregard|forget|override)\b.{0,30}\b(?:instructions?|prompts?|rules|directions)"
    r"|\b(?:you are now|system prompt|new instructions?)\b"
    r"|(?:忽略|忽視|无视|無視|不要理会|不要理會|忘记|忘記).{0,12}(?:指示|指令|提示|要求|规则|規則|说明|說明)"
    r"|(?:系统提示|系統提示|你现在是|你現在是)",
    re.I | re.S,
)


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold_t2s(text).lower())


class Source:
    """A passage as verification sees it: its sentences (without planted instructions), facts, and
    embeddings computed when first needed."""

    def __init__(self, passage: Passage, embedder: Embedder) -> None:
        self.passage, self.embedder = passage, embedder
        self.text, self.start = passage.text, passage.start
        text = passage.text
        spans = sentence_spans(text) or [(0, len(text))]
        self.instructions = [s for s in spans if INSTRUCTION.search(text[s[0] : s[1]])]
        self.sentences = [s for s in spans if s not in self.instructions] or [(0, 0)]
        extras = " ".join(x or "" for x in (passage.title, passage.date, passage.doc_number, passage.section))
        self.evidence = " ".join(text[a:b] for a, b in self.sentences) + "\n" + extras
        self.numbers = evidence_numbers(self.evidence)

    @classmethod
    def of_text(cls, text: str, embedder: Embedder) -> Source:
        """A bare text (no document facts) as a source."""
        return cls(Passage(chunk_id="", doc_id="", text=text, start=0, end=len(text)), embedder)

    @classmethod
    def of_citation(cls, citation: Citation, passage: Passage | None, embedder: Embedder) -> Source:
        """The cited passage, or, when it was not retrieved, the passage the citation carries."""
        if passage is None:
            start = citation.doc_start - citation.span_start
            passage = Passage(
                chunk_id=citation.chunk_id,
                doc_id=citation.doc_id,
                text=citation.passage,
                start=start,
                end=start + len(citation.passage),
                section=citation.section,
                title=citation.title,
                date=citation.date,
                doc_number=citation.doc_number,
                issuer=citation.issuer,
            )
        return cls(passage, embedder)

    @cached_property
    def folded_sentences(self) -> list[str]:
        return [letters(self.text[a:b]) for a, b in self.sentences]

    @cached_property
    def folded_lower(self) -> list[str]:
        """Sentences as the keyword index sees text: script-folded and lower-cased."""
        return [fold_t2s(self.text[a:b]).lower() for a, b in self.sentences]

    @cached_property
    def folded_text(self) -> str:
        return fold_t2s(self.evidence).lower()

    @cached_property
    def passage_vector(self) -> np.ndarray:
        return self.embedder.embed_passages([" ".join(self.text[a:b] for a, b in self.sentences)])[0]

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        return self.embedder.embed_passages([self.text[a:b] for a, b in self.sentences])

    @cached_property
    def instruction_vectors(self) -> np.ndarray:
        return self.embedder.embed_passages([self.text[a:b] for a, b in self.instructions])

    def citation(self, n: int, span: tuple[int, int], *, highlights: tuple = ()) -> Citation:
        return Citation.of_span(n, self.passage, span[0], span[1], highlights=tuple(highlights))
