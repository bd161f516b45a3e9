"""Extractive generator: no LLM. Quotes the passage sentences that answer the question, each with
its ``[n]`` marker, preferring the sentence in the question's language when a bilingual pair
offers both; abstains with the closest passages when the evidence is too weak."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.embedding.base import Embedder
from rag.prompts import load_prompts
from rag.textnorm import detect_language, fold_t2s, sentence_spans
from rag.types import Answer, Citation, Passage
from vectorstore.keyword import coverage, query_term_sets

_NUMBER_CUES = re.compile(r"how many|how much|number of|多少|几|幾|数量|數量|比例|percentage", re.I)
_DATE_CUES = re.compile(
    r"\bwhen\b|what date|which year|何时|何時|哪天|哪一天|什么时候|什麼時候|日期|哪年", re.I
)
_QUANTITY = re.compile(r"\d+(?:\.\d+)?\s*(?:个|個|项|項|家|条|條|%|％|亿|億|万|萬|元|名|人|[a-z]+)", re.I)
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{2}-\d{2}|(?:January|February|March|April|"
    r"May|June|July|August|September|October|November|December)\s+\d"
)


@dataclass(frozen=True)
class _Candidate:
    passage_index: int
    start: int  # within passage text
    end: int
    text: str
    language: str
    lexical: float
    semantic: float = 0.0

    def score(self, question_language: str, wants_number: bool, wants_date: bool) -> float:
        value = 0.55 * self.lexical + 0.45 * self.semantic
        if _same_language(self.language, question_language):
            value += 0.12
        if wants_number and _QUANTITY.search(self.text):
            value += 0.15
        if wants_date and _DATE.search(self.text):
            value += 0.08
        return value - 0.01 * self.passage_index


def _same_language(a: str, b: str) -> bool:
    return a.split("-")[0] == b.split("-")[0]


class ExtractiveGenerator:
    name = "extractive"

    def __init__(
        self,
        *,
        embedder: Embedder,
        idf: Callable[[str], float],
        max_sentences: int = 2,
        passages_considered: int = 5,
        min_coverage: float = 0.5,
        min_similarity: float = 0.77,
    ) -> None:
        if max_sentences < 1 or passages_considered < 1:
            raise ValueError(
                f"max_sentences and passages_considered must be >= 1; got {max_sentences}, {passages_considered}"
            )
        if not 0 <= min_coverage <= 1:
            raise ValueError(f"min_coverage must be within [0, 1]; got {min_coverage}")
        self.embedder, self.idf = embedder, idf
        self.max_sentences, self.passages_considered = max_sentences, passages_considered
        self.min_coverage, self.min_similarity = min_coverage, min_similarity
        self.prompts = load_prompts("extractive.v1")

    def generate(self, question: str, passages: list[Passage]) -> Answer:
        language = detect_language(question)
        if not passages:
            text = self.prompts.render("no_passages", language=language)
            return Answer(question, text, [], True, language, generator=self.name)
        considered = passages[: self.passages_considered]
        term_sets = query_term_sets(question)
        candidates = self._with_semantics(question, self._candidates(term_sets, considered))
        chosen = self._choose(question, language, term_sets, candidates, considered)
        if not chosen:
            return self._abstain(question, language, passages)
        chosen.sort(key=lambda c: (c.passage_index, c.start))
        citations = [
            Citation.of_span(n, passages[c.passage_index], c.start, c.end)
            for n, c in enumerate(chosen, start=1)
        ]
        quoted = " ".join(f"{c.text} [{n}]" for n, c in enumerate(chosen, start=1))
        if not _same_language(chosen[0].language, language):
            quoted = self.prompts.render("cross_lingual", language=language, sentences=quoted)
        return Answer(question, quoted, citations, False, language, generator=self.name)

    def _choose(
        self,
        question: str,
        language: str,
        term_sets: list[list[str]],
        candidates: list[_Candidate],
        passages: list[Passage],
    ) -> list[_Candidate]:
        """Sentences in the question's language when they cover its terms well enough; otherwise,
        from passages with no sentence in that language, the semantically closest ones (a
        cross-lingual answer) if the passage is close enough; otherwise nothing (abstain)."""
        same = [c for c in candidates if _same_language(c.language, language)]
        if same and max(c.lexical for c in same) >= self.min_coverage:
            pool = same
        else:
            same_language_passages = {c.passage_index for c in same}
            other = [c for c in candidates if c.passage_index not in same_language_passages]
            covered = bool(other) and max(c.lexical for c in other) >= self.min_coverage
            pool = [
                c
                for c in other
                if (passages[c.passage_index].dense_similarity or 0.0) >= self.min_similarity
                and (covered or len(term_sets) == 1)  # no glossary translation to check against
            ]
        if not pool:
            return []
        wants_number, wants_date = bool(_NUMBER_CUES.search(question)), bool(_DATE_CUES.search(question))
        ranked = sorted(pool, key=lambda c: -c.score(language, wants_number, wants_date))
        best = ranked[0].score(language, wants_number, wants_date)
        chosen = [ranked[0]]
        for c in ranked[1 : self.max_sentences]:
            # Overlapping chunks and lead paragraphs repeat a document's sentences: quote them once.
            if c.score(language, wants_number, wants_date) >= 0.9 * best and not _repeats(
                c, chosen, passages
            ):
                chosen.append(c)
        return chosen

    def _candidates(self, term_sets: list[list[str]], passages: list[Passage]) -> list[_Candidate]:
        found = []
        for index, passage in enumerate(passages):
            skip = {passage.title or "", *passage.section.split(" > ")}
            for start, end in sentence_spans(passage.text):
                text = passage.text[start:end]
                if len(text) < 6 or text in skip:  # titles and headings are not answers
                    continue
                folded = fold_t2s(text).lower()
                covered = coverage(term_sets, folded.__contains__, self.idf)
                found.append(_Candidate(index, start, end, text, detect_language(text), covered))
        return found

    def _with_semantics(self, question: str, candidates: list[_Candidate]) -> list[_Candidate]:
        if not candidates:
            return candidates
        query = self.embedder.embed_query(question)
        vectors = self.embedder.embed_passages([c.text for c in candidates])
        sims = vectors @ query
        low, high = float(np.min(sims)), float(np.max(sims))
        spread = (high - low) or 1.0
        return [
            _Candidate(
                c.passage_index, c.start, c.end, c.text, c.language, c.lexical, (float(s) - low) / spread
            )
            for c, s in zip(candidates, sims, strict=True)
        ]

    def _abstain(self, question: str, language: str, passages: list[Passage]) -> Answer:
        closest = "; ".join(
            f"[{p.doc_id}] {p.title or ''}" + (f" > {p.section}" if p.section else "") for p in passages[:3]
        )
        text = self.prompts.render("abstain", language=language, question=question, closest=closest)
        return Answer(question, text, [], True, language, generator=self.name)


def _repeats(candidate: _Candidate, chosen: list[_Candidate], passages: list[Passage]) -> bool:
    """True when a chosen sentence of the same document holds this one's text or is held by it."""
    text, doc_id = fold_t2s(candidate.text).strip(), passages[candidate.passage_index].doc_id
    return any(
        passages[c.passage_index].doc_id == doc_id
        and (text in (other := fold_t2s(c.text).strip()) or other in text)
        for c in chosen
    )
