"""Features of the evidence model: for a question and each candidate sentence of the retrieved
passages, what makes a sentence the answer; for the whole set, what makes a question answerable.

Every feature is a plain number computed from text, the keyword index's IDF, the passage's
retrieval scores and (for semantic similarity) one embedding per sentence. Training
(``eval/training``) and answering call the same functions, so the two cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.generate.candidates import Candidate, context_of, fold
from rag.generate.holds import HAS
from rag.glossary import names_place, places_in
from rag.question import KINDS, Question
from rag.types import Passage

SENTENCE_FEATURES = (
    "cov_sentence",  # IDF-weighted share of the question's terms in the sentence
    "cov_context",  # ... in the sentence, its section path and its document title
    "cov_passage",  # ... anywhere in the passage
    "cov_focus",  # like cov_sentence, terms weighted by how few of the passage's sentences hold them
    "cov_beyond_context",  # coverage of the question terms its document title and section lack
    "beyond_share",  # IDF share of the question's terms that the title and section lack
    "cov_neighbours",  # best coverage of the sentence before or after it
    "missing_context",  # the most specific question term absent from sentence and context (0-1)
    "missing_passage",  # ... absent from the whole passage
    "novelty",  # share of the sentence's characters that are not question terms
    "sim_sentence",  # embedding cosine of question and sentence
    "sim_gap",  # sim_sentence minus the best sim_sentence among the question's candidates
    "sim_passage",  # the passage's dense similarity (retrieval)
    "passage_rank",  # 1/(1 + rank) of the passage in the retrieved list
    "keyword_hit",  # the keyword retriever found the passage
    "sentence_position",  # 1/(1 + index) of the sentence in its passage
    "log_length",  # log(1 + characters)
    "is_heading",  # a short line without terminal punctuation
    # Question-level, never per sentence: the training data's English questions all meet Chinese
    # text, so a per-sentence "cross-lingual" flag would learn to prefer Chinese sentences over
    # the English twins of a bilingual document.
    "english_question",
    "has_kind",  # the sentence holds what the question's kind asks for (a number, a date …)
    "years_found",  # share of the question's years found in sentence or context (1 when none)
    "places_found",  # share of the question's places found in sentence or context (1 when none)
    "numbers_found",  # share of the question's other numbers found in the sentence (1 when none)
    "unseen",  # IDF share of the question's terms that no indexed passage uses
    "phrases_context",  # share of the question's adjacent word pairs in sentence or context (1 when none)
    "phrases_passage",  # ... anywhere in the passage
    "counted_found",  # the noun a "多少个…" question counts is in the sentence (1 when none)
    *(f"kind_{kind}" for kind in KINDS),
    "cov_sentence_x_english",  # interactions: English questions lean on similarity
    "sim_gap_x_english",
    "has_kind_x_cov",
)

SET_FEATURES = (
    "p_max",
    "p_second",
    "p_top_passage",  # best probability among the first passage's sentences
    "p_sum3",
    "cov_context_max",
    "cov_passage_max",
    "missing_all",  # the most specific question term absent from every passage (0-1)
    "sim_passage_top",
    "sim_sentence_max",
    "has_kind_best",  # the most probable sentence holds what is asked for
    "english_question",
    "log_terms",
    "unseen",
    "phrases_all",  # share of the question's adjacent word pairs found in any passage (1 when none)
    *(f"kind_{kind}" for kind in KINDS),
)


class TermStats(Protocol):
    """What the features need of the keyword index: how specific a term is, and whether the
    corpus uses it at all."""

    def idf(self, term: str) -> float: ...

    def known(self, term: str) -> bool: ...


_PLACE_SUFFIX = re.compile(r"(?<=[\u4e00-\u9fff]{2})[省市区县州]$")
_ENGLISH_SUFFIX = re.compile(r"(?<=[a-z]{4})(?:ing|ed|es|s)$")


def match_form(term: str) -> str:
    """The form of a term looked for in text: a place without its 省/市/区/县/州 ("南充市" is
    "南充" in "南充阆中古城"), an English word without its inflection ("established")."""
    return _ENGLISH_SUFFIX.sub("", _PLACE_SUFFIX.sub("", term))


class _Terms:
    """The question's term sets against a piece of text. Terms the corpus never uses (tokeniser
    debris such as "区中", or a name no document mentions) cannot be in any sentence: they are
    left out of coverage and counted once, as the question's ``unseen`` share."""

    def __init__(self, question: Question, stats: TermStats) -> None:
        self.idf = {t: stats.idf(t) for t in question.terms}
        known = {t for t in question.terms if stats.known(t)}
        self.form = {t: match_form(t) for t in question.terms}
        full = [list(terms) for terms in question.term_sets if terms]
        self.sets = [[t for t in terms if t in known] for terms in full]
        self.sets = [terms for terms in self.sets if terms]
        self.top = max((self.idf[t] for t in known), default=1.0) or 1.0
        shares = [
            sum(self.idf[t] for t in terms if t not in known) / (sum(self.idf[t] for t in terms) or 1.0)
            for terms in full
        ]
        self.unseen = min(shares, default=0.0)

    def present(self, term: str, text: str) -> bool:
        return self.form[term] in text

    def coverage(self, text: str, weight: Callable[[str], float] | None = None) -> float:
        weight = weight or self.idf.__getitem__
        best = 0.0
        for terms in self.sets:
            total = sum(weight(t) for t in terms)
            if total > 0:
                best = max(best, sum(weight(t) for t in terms if self.present(t, text)) / total)
        return best

    def missing(self, text: str) -> float:
        """The IDF of the most specific known term absent from ``text``, relative to the most
        specific known term of the question; best (lowest) over the term sets."""
        if not self.sets:
            return 1.0
        return (
            min(
                max((self.idf[t] for t in terms if not self.present(t, text)), default=0.0)
                for terms in self.sets
            )
            / self.top
        )


def sentence_features(
    question: Question,
    passages: Sequence[Passage],
    candidates: Sequence[Candidate],
    *,
    stats: TermStats,
    similarities: np.ndarray,
) -> np.ndarray:
    """One row of ``SENTENCE_FEATURES`` per candidate; ``similarities`` are the cosines of the
    question and each candidate sentence."""
    terms = _Terms(question, stats)
    folded = [fold(c.text) for c in candidates]
    by_passage: dict[int, list[int]] = {}
    for row, c in enumerate(candidates):
        by_passage.setdefault(c.passage_index, []).append(row)
    contexts = [fold(context_of(p)) for p in passages]
    shared = _Shared(
        question=question,
        terms=terms,
        folded=folded,
        by_passage=by_passage,
        contexts=contexts,
        passage_text=[fold(p.text) for p in passages],
        focus={p: _focus_weights(terms, [folded[r] for r in rows]) for p, rows in by_passage.items()},
        beyond={p: _beyond(terms, contexts[p]) for p in by_passage},
        best_sim=float(np.max(similarities)) if len(similarities) else 0.0,
    )
    rows = [
        _sentence_row(shared, passages[c.passage_index], row, c, float(similarities[row]))
        for row, c in enumerate(candidates)
    ]
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(SENTENCE_FEATURES))


@dataclass(frozen=True)
class _Shared:
    """What every candidate's row reads: the question's terms and the passages' folded texts."""

    question: Question
    terms: _Terms
    folded: list[str]  # per candidate
    by_passage: dict[int, list[int]]  # passage index -> its candidates' rows
    contexts: list[str]  # per passage: title, date, number and section, folded
    passage_text: list[str]  # per passage, folded
    focus: dict[int, Callable[[str], float]]
    beyond: dict[int, Callable[[str], tuple[float, float]]]
    best_sim: float


def _sentence_row(shared: _Shared, passage: Passage, row: int, c: Candidate, sim: float) -> list[float]:
    question, terms, text = shared.question, shared.terms, shared.folded[row]
    context = f"{text} {shared.contexts[c.passage_index]}"
    whole = shared.passage_text[c.passage_index]
    siblings = shared.by_passage[c.passage_index]
    at = siblings.index(row)
    neighbours = [shared.folded[siblings[j]] for j in (at - 1, at + 1) if 0 <= j < len(siblings)]
    english = float(question.language == "en")
    cov = terms.coverage(text)
    has_kind = float(bool(HAS[question.kind].search(c.text))) if question.kind in HAS else 0.0
    named = places_named(f"{c.text} {context_of(passage)}")
    return [
        cov,
        terms.coverage(context),
        terms.coverage(whole),
        terms.coverage(text, shared.focus[c.passage_index]),
        *shared.beyond[c.passage_index](text),
        max((terms.coverage(n) for n in neighbours), default=0.0),
        terms.missing(context),
        terms.missing(whole),
        _novelty(text, question.terms),
        sim,
        sim - shared.best_sim,
        passage.dense_similarity or 0.0,
        1.0 / (1 + c.passage_index),
        float(passage.keyword_rank is not None),
        1.0 / (1 + c.index),
        math.log1p(len(c.text)),
        float(_is_heading(c.text, passage)),
        english,
        has_kind,
        _share_found(question.years, context),
        _places_found(question.places, named, passage.region),
        _share_found(question.numbers, text),
        terms.unseen,
        _share_in(question.phrases, context),
        _share_in(question.phrases, whole),
        float(question.counted is None or question.counted in text),
        *(1.0 if question.kind == kind else 0.0 for kind in KINDS),
        cov * english,
        (sim - shared.best_sim) * english,
        has_kind * cov,
    ]


def set_features(
    question: Question,
    passages: Sequence[Passage],
    candidates: Sequence[Candidate],
    features: np.ndarray,
    probabilities: np.ndarray,
    *,
    stats: TermStats,
) -> np.ndarray:
    """``SET_FEATURES`` for the question over all its candidates."""
    column = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    kinds = [1.0 if question.kind == kind else 0.0 for kind in KINDS]
    terms = _Terms(question, stats)
    everything = " ".join(fold(f"{context_of(p)} {p.text}") for p in passages)
    log_terms = math.log1p(len(question.terms))
    if not len(candidates):
        english = float(question.language == "en")
        empty = [0.0] * 6 + [
            terms.missing(everything),
            0.0,
            0.0,
            0.0,
            english,
            log_terms,
            terms.unseen,
            _share_in(question.phrases, everything),
            *kinds,
        ]
        return np.asarray(empty, dtype=np.float64)
    ordered = np.sort(probabilities)[::-1]
    best = int(np.argmax(probabilities))
    first = [i for i, c in enumerate(candidates) if c.passage_index == 0]
    values = [
        float(ordered[0]),
        float(ordered[1]) if len(ordered) > 1 else 0.0,
        float(max(probabilities[i] for i in first)) if first else 0.0,
        float(np.sum(ordered[:3])),
        float(np.max(features[:, column["cov_context"]])),
        float(np.max(features[:, column["cov_passage"]])),
        terms.missing(everything),
        passages[0].dense_similarity or 0.0,
        float(np.max(features[:, column["sim_sentence"]])),
        float(features[best, column["has_kind"]]),
        float(question.language == "en"),
        log_terms,
        terms.unseen,
        _share_in(question.phrases, everything),
        *kinds,
    ]
    return np.asarray(values, dtype=np.float64)


def _focus_weights(terms: _Terms, sentences: list[str]) -> Callable[[str], float]:
    """IDF times the share of the passage's sentences that lack the term: a term every sentence
    repeats (the meeting's name) says nothing about which sentence answers."""
    count = len(sentences) + 1
    share = {t: sum(terms.present(t, s) for s in sentences) / count for t in terms.idf}
    return lambda t: terms.idf[t] * (1.0 - share[t])


def _beyond(terms: _Terms, context: str) -> Callable[[str], tuple[float, float]]:
    """For a passage's context: a function giving a sentence's coverage of the question terms the
    context lacks (a news lead repeats the meeting's name of the title; the answer holds what the
    question adds to it), and the IDF share of those terms in the question."""
    outside = {t: (0.0 if terms.present(t, context) else terms.idf[t]) for t in terms.idf}
    total = sum(terms.idf.values()) or 1.0
    share = sum(outside.values()) / total

    def score(text: str) -> tuple[float, float]:
        return (terms.coverage(text, outside.__getitem__) if share else 0.0), share

    return score


def _novelty(text: str, terms: Sequence[str]) -> float:
    letters = re.sub(r"[\W_]+", "", text)
    if not letters:
        return 0.0
    covered = letters
    for term in sorted(terms, key=len, reverse=True):
        covered = covered.replace(term, "")
    return len(covered) / len(letters)


def _is_heading(text: str, passage: Passage) -> bool:
    if text == (passage.title or "") or text in passage.section.split(" > "):
        return True
    return len(text) <= 30 and not re.search(r"[。！？!?；;.,，]$", text)


@lru_cache(maxsize=4096)
def places_named(text: str) -> frozenset[str]:
    return frozenset(places_in(text))


def _places_found(wanted: Sequence[str], named: frozenset[str], region: str | None) -> float:
    if not wanted:
        return 1.0
    return sum(1 for w in wanted if names_place(w, named, region)) / len(wanted)


def _share_in(phrases: Sequence[str], text: str) -> float:
    return sum(p in text for p in phrases) / len(phrases) if phrases else 1.0


def _share_found(wanted: Sequence[str], text: str | frozenset[str]) -> float:
    if not wanted:
        return 1.0
    return sum(1 for w in wanted if w in text) / len(wanted)
