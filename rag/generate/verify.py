"""Citation verification: every cited sentence of an answer is checked against the passage it cites.

A sentence is *related* to a passage when it quotes one of the passage's sentences, when it shares
enough of its terms with the passage (IDF-weighted coverage, the glossary translating an English
sentence's terms), or when its embedding is very close to the passage's or to its closest
sentence's (the knowledge base's multilingual embedder, for paraphrases across languages). It is
*supported* when it is related to at least one cited passage and every number and place name it
states appears in those passages (or their title, date, document number, section).

For each sentence: markers that point nowhere are dropped; markers to unrelated passages are
dropped; an unsupported sentence moves to the one passage that supports it, or is removed. A
sentence without markers stays unless it states a number or place no passage holds, or repeats an
instruction planted in a passage (passage sentences addressed to the assistant are never evidence).
Citations are renumbered in order of appearance and their span is the passage sentence that
matches best. An answer left with no citation becomes an abstention listing the closest passages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.embedding.base import Embedder
from rag.generate.answer_model import EvidenceModel
from rag.generate.docfacts import fact_lines
from rag.generate.evidence import Source
from rag.generate.evidence import letters as _letters
from rag.generate.facts import unsupported_numbers, unsupported_places
from rag.generate.markers import Claim, rewrite_markers, split_claims, strip_markers, tidy
from rag.generate.refusal import closest_passages
from rag.generate.relevance import names_all, span_probability
from rag.prompts import load_prompts
from rag.terms import coverage, question_term_sets
from rag.types import Answer, Citation, Passage

# Thresholds measured on training data, never on the eval gate (`python -m eval.training.
# verify_thresholds`, bench/results/verify_thresholds.json): claims made of a CMRC/DRCD question's
# content words and its gold answer, scored against the gold passage holding the answer (600
# pairs), the other retrieved passages (600) and passages of other questions (600).
# multilingual-e5-small cosine barely separates them (medians 0.93 / 0.87 / 0.84); IDF-weighted
# term coverage separates far better (0.85 / 0.18 / 0.0). "coverage >= 0.6 or similarity >= 0.92"
# accepts 91% of supporting pairs, 4% of the other retrieved passages and none of the other
# documents'; numbers and place names then decide among related passages.
MIN_COVERAGE = 0.6
MIN_SIMILARITY = 0.92

_QUOTE_MIN = 6  # characters (letters, digits, CJK) a quoted sentence needs to count as a quote


@dataclass(frozen=True)
class _Match:
    related: bool
    similarity: float
    span: tuple[int, int]  # the passage sentence that matches best
    quoted: bool = False


@dataclass
class _Outcome:
    claim: Claim
    refs: dict[int, str] | None  # old marker -> reference key; None: the sentence is removed
    moved_to: str | None = None  # reference key when the sentence moved to another passage


class CitationVerifier:
    """Checks an Answer's citations against the passages it was generated from."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        idf: Callable[[str], float] | None = None,
        min_coverage: float = MIN_COVERAGE,
        min_similarity: float = MIN_SIMILARITY,
        check_numbers: bool = True,
        check_places: bool = True,
        evidence: EvidenceModel | None = None,
    ) -> None:
        for name, value in (("min_coverage", min_coverage), ("min_similarity", min_similarity)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be within [0, 1]; got {value}")
        self.embedder, self.idf = embedder, idf or (lambda term: 1.0)
        self.min_coverage, self.min_similarity = min_coverage, min_similarity
        self.check_numbers, self.check_places = check_numbers, check_places
        self.evidence = evidence
        self.prompts = load_prompts("verify.v2")

    def verify(self, answer: Answer, passages: list[Passage], *, required: Sequence[str] = ()) -> Answer:
        """The answer with unsupported sentences moved or removed, citations renumbered and their
        spans set, ``support``, ``unverified_citations`` and ``verification_notes`` filled in.
        ``required``: terms a citation must hold in its sentence or its document title and section
        to count as about the question (a follow-up's own subject: "成都" of "那成都呢？")."""
        if answer.abstained and not answer.citations:
            return answer
        verified = _Run(self, answer, passages).result()
        if verified.abstained:
            return verified
        if required:
            verified = self._holds_required(verified, passages, required)
        if self.evidence is None or verified.abstained:
            return verified
        return self._about_the_question(verified, passages)

    def _holds_required(self, answer: Answer, passages: list[Passage], required: Sequence[str]) -> Answer:
        if any(names_all(c, passages, required) for c in answer.citations):
            return answer
        note = f"no cited passage names {'、'.join(required)}"
        return self._refuse(answer, passages, note)

    def _about_the_question(self, answer: Answer, passages: list[Passage]) -> Answer:
        """Citations whose spans the evidence model rates below ``cite_below`` for the question
        are not about it (a Sichuan-wide figure for a Chengdu question): an answer left with none
        becomes an abstention."""
        assessment = self.evidence.assess(answer.question, passages)
        floor = self.evidence.params.cite_below
        facts = {
            (passages[f.passage_index].chunk_id, f.start, f.end)
            for f in fact_lines(assessment.question, passages)
        }
        relevant = [
            c
            for c in answer.citations
            if (c.chunk_id, c.span_start, c.span_end) in facts
            or span_probability(assessment, passages, c) >= floor
        ]
        notes = list(answer.verification_notes)
        if relevant:
            return replace(answer, verification_notes=notes, answerability=assessment.answerability)
        return self._refuse(
            answer,
            passages,
            f"no cited passage answers the question (evidence below {floor:.2f})",
            answerability=assessment.answerability,
        )

    def _refuse(
        self, answer: Answer, passages: list[Passage], note: str, *, answerability: float | None = None
    ) -> Answer:
        """The "cited passages are not about the question" refusal, with ``note`` added."""
        notes = [*answer.verification_notes, note]
        text = self.prompts.render(
            "irrelevant",
            language=answer.language,
            question=answer.question,
            closest=closest_passages(passages, answer.language),
        )
        return replace(
            answer,
            text=text,
            citations=[],
            abstained=True,
            verification_notes=notes,
            answerability=answer.answerability if answerability is None else answerability,
        )


class _Run:
    """The state of verifying one answer."""

    def __init__(self, verifier: CitationVerifier, answer: Answer, passages: list[Passage]) -> None:
        self.v, self.answer, self.passages = verifier, answer, list(passages)
        self.cited = {c.n: c for c in answer.citations}
        self.by_chunk = {p.chunk_id: p for p in self.passages}
        self._sources: dict[str, Source] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._terms: dict[str, list[list[str]]] = {}
        self.best: dict[str, tuple[float, tuple[int, int]]] = {}  # reference key -> (score, span)
        self.notes: list[str] = []

    # -- sources and matching ------------------------------------------------------------------

    def passage_key(self, index: int) -> str:
        chunk_id = self.passages[index].chunk_id
        return next((f"c{n}" for n, c in self.cited.items() if c.chunk_id == chunk_id), f"p{index}")

    def source(self, key: str) -> Source:
        if key not in self._sources:
            if key.startswith("c"):
                citation = self.cited[int(key[1:])]
                passage = self.by_chunk.get(citation.chunk_id)
                self._sources[key] = Source.of_citation(citation, passage, self.v.embedder)
            else:
                self._sources[key] = Source(self.passages[int(key[1:])], self.v.embedder)
        return self._sources[key]

    def query(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = self.v.embedder.embed_query(text)
        return self._vectors[text]

    def terms(self, text: str) -> list[list[str]]:
        if text not in self._terms:
            self._terms[text] = question_term_sets(text)
        return self._terms[text]

    def match(self, text: str, key: str) -> _Match:
        source, letters = self.source(key), _letters(text)
        own = self.cited.get(int(key[1:])) if key.startswith("c") else None
        if own is not None and len(_letters(own.span)) >= _QUOTE_MIN and _letters(own.span) in letters:
            return _Match(True, 1.0, (own.span_start, own.span_end), quoted=True)
        for span, folded in zip(source.sentences, source.folded_sentences, strict=True):
            if (len(folded) >= _QUOTE_MIN and folded in letters) or (
                len(letters) >= _QUOTE_MIN and letters in folded
            ):
                if own is not None and own.span_start <= span[0] and span[1] <= own.span_end:
                    span = (own.span_start, own.span_end)  # a line of a quoted enumeration
                return _Match(True, 1.0, span, quoted=True)
        terms = self.terms(text)
        covered = coverage(terms, source.folded_text.__contains__, self.v.idf)
        if covered >= self.v.min_coverage:
            scores = [coverage(terms, f.__contains__, self.v.idf) for f in source.folded_lower]
            best = int(np.argmax(scores))
            return _Match(True, covered, source.sentences[best])
        query = self.query(text)
        sims = source.sentence_vectors @ query
        best = int(np.argmax(sims))
        similarity = max(float(source.passage_vector @ query), float(sims[best]))
        return _Match(similarity >= self.v.min_similarity, similarity, source.sentences[best])

    def judge(self, text: str, matches: dict[str, _Match]) -> str | None:
        """None when the sentence is supported by the related passages; otherwise why not."""
        related = [key for key, m in matches.items() if m.related]
        if not related:
            best = max((m.similarity for m in matches.values()), default=0.0)
            return f"not related to the cited passage (score {best:.2f})"
        sources = [self.source(key) for key in related]
        if self.v.check_numbers:
            missing = unsupported_numbers(text, set().union(*(s.numbers for s in sources)))
            if missing:
                return f"{', '.join(missing)} not in the cited passage"
        if self.v.check_places:
            missing = unsupported_places(text, "\n".join(s.evidence for s in sources))
            if missing:
                return f"{', '.join(missing)} not named in the cited passage"
        return None

    def record(self, key: str, match: _Match) -> None:
        score = match.similarity + (1.0 if match.quoted else 0.0)
        if key not in self.best or score > self.best[key][0]:
            self.best[key] = (score, match.span)

    # -- claims ----------------------------------------------------------------------------------

    def cited_claim(self, claim: Claim) -> tuple[_Outcome, bool]:
        for n in claim.markers:
            if n not in self.cited:
                self.notes.append(f"dropped [{n}]: there is no passage {n}")
        known = [n for n in claim.markers if n in self.cited]
        reason = "its markers point to no passage"
        if known:
            matches = {f"c{n}": self.match(claim.text, f"c{n}") for n in known}
            reason = self.judge(claim.text, matches)
            if reason is None:
                refs = {}
                for n in known:
                    if matches[f"c{n}"].related:
                        refs[n] = f"c{n}"
                        self.record(f"c{n}", matches[f"c{n}"])
                    else:
                        self.notes.append(f"dropped [{n}] from “{_short(claim.text)}”: unrelated passage")
                return _Outcome(claim, refs), True
        moved = self.move(claim, tried={f"c{n}" for n in known})
        if moved is not None:
            self.notes.append(f"moved “{_short(claim.text)}” from {_marks(claim.markers)} ({reason})")
            return _Outcome(claim, {}, moved_to=moved), False
        self.notes.append(f"removed “{_short(claim.text)}”: {reason}")
        return _Outcome(claim, None), False

    def move(self, claim: Claim, tried: set[str]) -> str | None:
        """The passage that best supports a sentence its own citations do not support."""
        best: tuple[float, str, _Match] | None = None
        for index in range(len(self.passages)):
            key = self.passage_key(index)
            if key in tried:
                continue
            match = self.match(claim.text, key)
            supported = match.related and self.judge(claim.text, {key: match}) is None
            if supported and (best is None or match.similarity > best[0]):
                best = (match.similarity, key, match)
        if best is None:
            return None
        self.record(best[1], best[2])
        return best[1]

    def uncited_claim(self, claim: Claim) -> _Outcome:
        text, letters = claim.text, _letters(claim.text)
        if not letters:
            return _Outcome(claim, {})
        sources = [self.source(self.passage_key(i)) for i in range(len(self.passages))]
        for index, source in enumerate(sources, start=1):
            if source.instructions and self._echoes(text, letters, source):
                self.notes.append(f"removed “{_short(text)}”: it follows an instruction in passage {index}")
                return _Outcome(claim, None)
        if self.v.check_numbers and sources:
            missing = unsupported_numbers(text, set().union(*(s.numbers for s in sources)))
            if missing:
                self.notes.append(f"removed uncited “{_short(text)}”: {', '.join(missing)} in no passage")
                return _Outcome(claim, None)
        moved = self.move(claim, tried=set())
        if moved is not None:
            self.notes.append(f"cited “{_short(text)}”, which had no citation")
            return _Outcome(claim, {}, moved_to=moved)
        return _Outcome(claim, {})

    def _echoes(self, text: str, letters: str, source: Source) -> bool:
        folded = [_letters(source.text[a:b]) for a, b in source.instructions]
        if len(letters) >= 2 and any(letters in f for f in folded):
            return True
        sims = source.instruction_vectors @ self.query(text)
        return bool(np.max(sims) >= self.v.min_similarity)

    # -- result ----------------------------------------------------------------------------------

    def result(self) -> Answer:
        outcomes, cited, supported = [], 0, 0
        seen: dict[str, set[str]] = {}  # a kept sentence's letters -> its references
        for claim in split_claims(self.answer.text):
            if claim.markers:
                outcome, ok = self.cited_claim(claim)
                cited, supported = cited + 1, supported + ok
            else:
                outcome = self.uncited_claim(claim)
            if outcome.refs is not None:
                letters = _letters(claim.text)
                if letters and letters in seen and set(_references(outcome)) <= seen[letters]:
                    self.notes.append(f"removed a repetition of “{_short(claim.text)}”")
                    outcome = _Outcome(claim, None)
                else:
                    seen.setdefault(letters, set()).update(_references(outcome))
            outcomes.append(outcome)
        numbers: dict[str, int] = {}
        for o in outcomes:
            for key in _references(o):
                numbers.setdefault(key, len(numbers) + 1)
        citations = [self.citation(key, n) for key, n in numbers.items()]
        verified = replace(
            self.answer,
            support=supported / cited if cited else None,
            unverified_citations=list(self.answer.citations),
            verification_notes=self.notes,
        )
        if not citations:
            return replace(verified, text=self.abstention(), citations=[], abstained=True)
        return replace(verified, text=self.render(outcomes, numbers), citations=citations, abstained=False)

    def render(self, outcomes: list[_Outcome], numbers: dict[str, int]) -> str:
        text = self.answer.text
        unchanged = all(
            o.refs is not None
            and not o.moved_to
            and all(numbers[k] == n for n, k in o.refs.items())
            and set(o.refs) == set(o.claim.markers)
            for o in outcomes
        )
        if unchanged:
            return text
        pieces: list[str] = []
        cursor = 0
        for o in outcomes:
            gap, cursor = text[cursor : o.claim.start], o.claim.end
            if o.refs is None:
                continue
            piece = text[o.claim.start : o.claim.end]
            if o.moved_to:
                piece = f"{strip_markers(piece)} [{numbers[o.moved_to]}]"
            else:
                refs = o.refs
                piece = rewrite_markers(
                    piece, lambda ns, refs=refs: [numbers[refs[n]] for n in ns if n in refs]
                )
            pieces.append((gap if pieces else "") + piece)
        return tidy("".join(pieces))

    def citation(self, key: str, n: int) -> Citation:
        """The citation of reference ``key`` as marker ``n``; the generator's highlights stay when
        its span does."""
        span = self.best[key][1]
        own = self.cited.get(int(key[1:])) if key.startswith("c") else None
        keep = own is not None and (own.span_start, own.span_end) == span
        return self.source(key).citation(n, span, highlights=own.highlights if keep else ())

    def abstention(self) -> str:
        closest = closest_passages(self.passages, self.answer.language)
        return self.v.prompts.render(
            "unsupported", language=self.answer.language, question=self.answer.question, closest=closest
        )


def _references(outcome: _Outcome) -> list[str]:
    return [*(outcome.refs or {}).values(), *([outcome.moved_to] if outcome.moved_to else [])]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _marks(markers: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in markers) or "no citation"
