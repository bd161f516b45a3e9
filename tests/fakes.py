"""Fakes shared by tests (imported as ``fakes``: pytest puts the tests/ folder on sys.path)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.generate.answer_features import SENTENCE_FEATURES, SET_FEATURES
from rag.generate.answer_model import EvidenceModel, EvidenceParams, LogisticModel


class HashEmbedder:
    """Deterministic embedder for unit tests: hashed character bigrams of script-folded text."""

    model_id = "test:hash-bigrams"
    dimension = 256

    def _vector(self, text: str) -> np.ndarray:
        from rag.textnorm import fold_t2s

        folded = fold_t2s(text).lower()
        vec = np.zeros(self.dimension, dtype=np.float32)
        for a, b in zip(folded, folded[1:], strict=False):
            if a.isspace() or b.isspace():
                continue
            digest = hashlib.blake2b((a + b).encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return (
            np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


# A hand-written evidence model for unit tests: it rates sentences by the question terms they hold
# and trusts its best sentence, so tests can reason about what it picks. Hash vectors carry no
# meaning, so the trained model (whose similarity features assume E5) is exercised only over the
# real embedder: tests/rag/generate/test_answers_integration.py and the other integration tests.

SENTENCE_WEIGHTS = {"cov_sentence": 6.0, "cov_focus": 3.0, "missing_context": -2.5, "has_kind": 1.0}
SET_WEIGHTS = {"p_max": 12.0, "missing_all": -1.5}


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


def lexical_model(embedder, stats, *, abstain_below: float | None = None, **changes) -> EvidenceModel:
    """The hand-written model over ``embedder`` and ``stats`` (a keyword index, or FixedStats)."""
    return EvidenceModel(
        lexical_params(**changes), embedder=embedder, stats=stats, abstain_below=abstain_below
    )
