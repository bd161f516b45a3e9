"""A hand-written evidence model for unit tests: it rates sentences by the question terms they
hold and trusts its best sentence, so tests can reason about what it picks. The trained model is
exercised for real in tests/rag/generate/test_answers_integration.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from rag.generate.answer_features import SENTENCE_FEATURES, SET_FEATURES
from rag.generate.answer_model import EvidenceModel, EvidenceParams, LogisticModel

SENTENCE_WEIGHTS = {"cov_sentence": 6.0, "cov_focus": 3.0, "missing_context": -4.0, "has_kind": 1.0}
SET_WEIGHTS = {"p_max": 12.0, "missing_all": -3.0}


def _model(names, weights, intercept):
    coef = np.array([weights.get(n, 0.0) for n in names])
    zeros, ones = np.zeros(len(names)), np.ones(len(names))
    return LogisticModel(tuple(names), zeros, ones, coef, intercept)


def lexical_params(**changes) -> EvidenceParams:
    params = EvidenceParams(
        sentence=_model(SENTENCE_FEATURES, SENTENCE_WEIGHTS, -5.0),
        answerable=_model(SET_FEATURES, SET_WEIGHTS, -6.0),
        abstain_below=0.5,
        also_quote_above=0.95,
        cite_below=0.2,
    )
    return EvidenceParams(**{**params.__dict__, **changes})


@dataclass(frozen=True)
class FixedStats:
    """Term statistics from a function: every term is known to the corpus."""

    weight: Callable[[str], float] = lambda term: 1.0

    def idf(self, term: str) -> float:
        return self.weight(term)

    def known(self, term: str) -> bool:
        return True


@pytest.fixture
def lexical_evidence():
    """``lexical_evidence(embedder, idf)``: the hand-written model over that embedder and IDF."""

    def build(embedder, idf=lambda term: 1.0, **changes):
        return EvidenceModel(lexical_params(**changes), embedder=embedder, stats=FixedStats(idf))

    return build
