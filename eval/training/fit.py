"""Fit the evidence model: features of every case, grouped cross-validation, the final models and
the thresholds chosen on held-out folds.

Stage 1, the sentence model: a logistic regression over ``SENTENCE_FEATURES`` of every candidate
sentence. Stage 2, answerability: a logistic regression over ``SET_FEATURES``, computed from the
stage-1 probabilities *out of fold* (so stage 2 learns from probabilities as unseen questions get
them). Folds group cases by gold paragraph (DRCD: by article), so no paragraph is on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eval.training.examples import Case, sentence_label
from rag.embedding.base import Embedder
from rag.generate.answer_features import (
    SENTENCE_FEATURES,
    SET_FEATURES,
    TermStats,
    sentence_features,
    set_features,
)
from rag.generate.answer_model import LogisticModel, sentence_similarity_inputs
from rag.generate.candidates import Candidate, candidates_of
from rag.generate.eligibility import eligibility
from rag.question import Question, analyse_question

FOLDS = 5
REGULARISATION = 1.0  # sklearn's C; features are standardised first
REFUSAL_TARGET = 0.90  # abstain_below refuses this share of held-out unanswerable cases


@dataclass
class CaseRows:
    """One case's candidates, their features and labels."""

    case: Case
    question: Question
    candidates: list[Candidate]
    features: np.ndarray
    labels: np.ndarray  # 1, 0, or nan (left out)
    eligible: np.ndarray  # 1, or 0 where the candidate cannot answer (rag.generate.eligibility)
    stats: FrozenStats  # the question's terms in the case's corpus


@dataclass(frozen=True)
class FrozenStats:
    """Term statistics of one question's terms, kept so the set features can be recomputed."""

    idfs: dict[str, float]
    known_terms: frozenset[str]

    @classmethod
    def of(cls, question: Question, stats: TermStats) -> FrozenStats:
        return cls(
            {t: stats.idf(t) for t in question.terms}, frozenset(t for t in question.terms if stats.known(t))
        )

    def idf(self, term: str) -> float:
        return self.idfs[term]

    def known(self, term: str) -> bool:
        return term in self.known_terms


def case_rows(case: Case, *, embedder: Embedder, stats: TermStats) -> CaseRows:
    question = analyse_question(case.question)
    candidates = candidates_of(case.passages)
    if candidates:
        query, vectors = sentence_similarity_inputs(embedder, case.question, candidates)
        similarities = (vectors @ query).astype(np.float64)
    else:
        similarities = np.zeros(0)
    features = sentence_features(question, case.passages, candidates, stats=stats, similarities=similarities)
    labels = [sentence_label(case, case.passages[c.passage_index], c.text) for c in candidates]
    labelled = np.array([np.nan if v is None else v for v in labels])
    eligible = eligibility(question, case.passages, candidates)
    return CaseRows(case, question, candidates, features, labelled, eligible, FrozenStats.of(question, stats))


def fit_logistic(rows: np.ndarray, labels: np.ndarray, names: Sequence[str]) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=REGULARISATION, max_iter=5000)
    model.fit((rows - mean) / scale, labels)
    return LogisticModel(tuple(names), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def folds_of(cases: Sequence[CaseRows], folds: int = FOLDS) -> np.ndarray:
    """Fold number per case: groups dealt round-robin in sorted order (deterministic)."""
    groups = sorted({r.case.group for r in cases})
    fold_of_group = {g: i % folds for i, g in enumerate(groups)}
    return np.array([fold_of_group[r.case.group] for r in cases])


def _sentence_matrix(cases: Sequence[CaseRows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [r.features for r in cases]
    labels = [r.labels for r in cases]
    owner = [np.full(len(r.labels), i) for i, r in enumerate(cases)]
    return np.vstack(rows), np.concatenate(labels), np.concatenate(owner)


def set_matrix(cases: Sequence[CaseRows], probabilities: Sequence[np.ndarray]) -> np.ndarray:
    return np.vstack(
        [
            set_features(r.question, r.case.passages, r.candidates, r.features, p, stats=r.stats)
            for r, p in zip(cases, probabilities, strict=True)
        ]
    )


@dataclass
class Fitted:
    sentence: LogisticModel
    answerable: LogisticModel
    sentence_oof: list[np.ndarray]  # per case: held-out sentence probabilities
    answerable_oof: np.ndarray  # per case: held-out answerability


def fit(cases: Sequence[CaseRows], folds: int = FOLDS) -> Fitted:
    X, y, owner = _sentence_matrix(cases)
    fold = folds_of(cases, folds)
    row_fold = fold[owner]
    known = ~np.isnan(y)
    p_oof = np.zeros(len(y))
    for f in range(folds):
        train = known & (row_fold != f)
        model = fit_logistic(X[train], y[train], SENTENCE_FEATURES)
        test = row_fold == f
        p_oof[test] = model.probabilities(X[test])
    per_case = [p_oof[owner == i] * r.eligible for i, r in enumerate(cases)]
    S = set_matrix(cases, per_case)
    answerable = np.array([float(r.case.answerable) for r in cases])
    a_oof = np.zeros(len(cases))
    for f in range(folds):
        model = fit_logistic(S[fold != f], answerable[fold != f], SET_FEATURES)
        a_oof[fold == f] = model.probabilities(S[fold == f])
    return Fitted(
        sentence=fit_logistic(X[known], y[known], SENTENCE_FEATURES),
        answerable=fit_logistic(S, answerable, SET_FEATURES),
        sentence_oof=per_case,
        answerable_oof=a_oof,
    )


def refusal_threshold(scores: np.ndarray, answerable: np.ndarray, refusal: float) -> float:
    """The lowest threshold under which at least ``refusal`` of the unanswerable scores fall."""
    negatives = np.sort(scores[answerable == 0])
    if not len(negatives):
        return 0.5
    index = min(int(np.ceil(refusal * len(negatives))) - 1, len(negatives) - 1)
    return float(np.nextafter(negatives[max(index, 0)], 1.0))
