"""The evidence model: for a question and its retrieved passages, the probability that each
candidate sentence answers the question, and the probability that the question is answerable
from them at all. Both are logistic regressions over ``rag.generate.answer_features``, trained by
``eval/training`` (``make train``) on public QA data, never on the eval gate; their parameters
and the abstention threshold chosen on held-out folds live in ``evidence_model.json``.

The extractive generator quotes what it rates, LLM answers are ordered and gated by it, and the
verifier checks that what an answer cites is about the question, all through one ``assess`` call
(cached, so a question's sentences are embedded once).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.base import Embedder
from rag.errors import ConfigError
from rag.generate.answer_features import (
    SENTENCE_FEATURES,
    SET_FEATURES,
    TermStats,
    sentence_features,
    set_features,
)
from rag.generate.candidates import Candidate, candidates_of
from rag.generate.eligibility import eligibility
from rag.question import Question, analyse_question, question_parts
from rag.textnorm import fold_t2s
from rag.types import Passage

PARAMS_FILE = Path(__file__).with_name("evidence_model.json")


@dataclass(frozen=True)
class LogisticModel:
    """Standardised features, one weight each, a sigmoid."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(rows)
        if rows.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} features; got {rows.shape[1]}")
        logits = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], expected: Sequence[str]) -> LogisticModel:
        features = tuple(data["features"])
        if features != tuple(expected):
            raise ConfigError(
                "the evidence model was trained on other features than this code computes: "
                "retrain it with `make train`"
            )
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ConfigError("the evidence model file is malformed (array sizes differ)")
        return cls(features, *arrays, float(data["intercept"]))


@dataclass(frozen=True)
class EvidenceParams:
    """Both models, the abstention threshold and how they were obtained."""

    sentence: LogisticModel
    answerable: LogisticModel
    abstain_below: float  # answerability under which the assistant refuses (held-out folds)
    also_quote_above: float  # a further sentence is quoted when its probability reaches this
    cite_below: float  # a cited sentence rated under this is not about the question (held-out folds)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> EvidenceParams:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                sentence=LogisticModel.from_dict(data["sentence"], SENTENCE_FEATURES),
                answerable=LogisticModel.from_dict(data["answerable"], SET_FEATURES),
                abstain_below=float(data["abstain_below"]),
                also_quote_above=float(data["also_quote_above"]),
                cite_below=float(data["cite_below"]),
                info=data.get("info", {}),
            )
        except FileNotFoundError as exc:
            raise ConfigError(f"evidence model not found: {path} (run `make train`)") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"evidence model {path} is malformed: {exc}") from exc

    def save(self, path: Path = PARAMS_FILE) -> None:
        data = {
            "sentence": self.sentence.to_dict(),
            "answerable": self.answerable.to_dict(),
            "abstain_below": round(self.abstain_below, 4),
            "also_quote_above": round(self.also_quote_above, 4),
            "cite_below": round(self.cite_below, 4),
            "info": self.info,
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Assessment:
    """The evidence model's view of one question over its passages."""

    question: Question
    candidates: list[Candidate]
    probabilities: np.ndarray  # per candidate: it answers the question
    answerability: float  # the question is answerable from these passages
    features: np.ndarray  # per candidate, SENTENCE_FEATURES
    vectors: np.ndarray | None = None  # per candidate, its sentence embedding
    # A compound question ("多少个集聚区、多少个商圈？"): each part's own assessment. Then a
    # candidate's probability is its best over the parts and answerability the best part's.
    parts: tuple[Assessment, ...] = ()

    def ranked(self) -> list[tuple[Candidate, float]]:
        order = np.argsort(-self.probabilities, kind="stable")
        return [(self.candidates[i], float(self.probabilities[i])) for i in order]

    def passage_scores(self, count: int) -> list[float]:
        """The best sentence probability of each of ``count`` passages (0 for none)."""
        scores = [0.0] * count
        for c, p in zip(self.candidates, self.probabilities, strict=True):
            scores[c.passage_index] = max(scores[c.passage_index], float(p))
        return scores


def sentence_similarity_inputs(
    embedder: Embedder, question: str, candidates: Sequence[Candidate]
) -> tuple[np.ndarray, np.ndarray]:
    """The question's and the candidates' vectors, both in simplified script: E5 rates a
    traditional question lower against simplified text than the same question in simplified."""
    query = embedder.embed_query(fold_t2s(question))
    return query, embedder.embed_passages([fold_t2s(c.text) for c in candidates])


class EvidenceModel:
    """Scores candidate sentences and answerability; ``stats`` (IDF, known terms) come from the
    keyword index."""

    def __init__(
        self,
        params: EvidenceParams,
        *,
        embedder: Embedder,
        stats: TermStats,
        abstain_below: float | None = None,
        cache_size: int = 64,
    ) -> None:
        if abstain_below is not None and not 0 <= abstain_below <= 1:
            raise ValueError(f"abstain_below must be within [0, 1]; got {abstain_below}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1; got {cache_size}")
        self.params, self.embedder, self.stats = params, embedder, stats
        self.abstain_below = params.abstain_below if abstain_below is None else abstain_below
        self._cache: OrderedDict[tuple, Assessment] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def assess(self, question: str, passages: Sequence[Passage]) -> Assessment:
        key = (question, tuple((p.chunk_id, p.text) for p in passages))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        assessment = self._assess(question, passages)
        with self._lock:
            self._cache[key] = assessment
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return assessment

    def answerable(self, assessment: Assessment) -> bool:
        return assessment.answerability >= self.abstain_below

    def _assess(self, question: str, passages: Sequence[Passage]) -> Assessment:
        parts = question_parts(question)
        if len(parts) > 1:
            return self._compound(question, [self.assess(part, passages) for part in parts])
        analysed = analyse_question(question)
        candidates = candidates_of(passages)
        vectors, similarities = self._similarities(question, candidates)
        features = sentence_features(
            analysed, passages, candidates, stats=self.stats, similarities=similarities
        )
        probabilities = (
            self.params.sentence.probabilities(features) * eligibility(analysed, passages, candidates)
            if len(candidates)
            else np.zeros(0, dtype=np.float64)
        )
        overall = set_features(analysed, passages, candidates, features, probabilities, stats=self.stats)
        answerability = float(self.params.answerable.probabilities(overall)[0])
        if analysed.small_talk or not any(self.stats.known(t) for t in analysed.terms):
            answerability = 0.0  # nothing the documents could be about: "hi", or only unknown words
        return Assessment(analysed, candidates, probabilities, answerability, features, vectors)

    @staticmethod
    def _compound(question: str, parts: list[Assessment]) -> Assessment:
        """One assessment of a compound question from its parts': every part is scored as a
        question of its own (the model learnt from single questions, and a sentence answering
        one part covers half the terms of the whole), and a sentence answers the whole when it
        answers a part. The candidates are the same for every part (they depend on the passages
        alone)."""
        best = int(np.argmax([p.answerability for p in parts]))
        probabilities = np.max(np.stack([p.probabilities for p in parts]), axis=0)
        first = parts[0]
        return Assessment(
            analyse_question(question),
            first.candidates,
            probabilities,
            parts[best].answerability,
            parts[best].features,
            first.vectors,
            tuple(parts),
        )

    def _similarities(
        self, question: str, candidates: list[Candidate]
    ) -> tuple[np.ndarray | None, np.ndarray]:
        if not candidates:
            return None, np.zeros(0, dtype=np.float64)
        query, vectors = sentence_similarity_inputs(self.embedder, question, candidates)
        return vectors, (vectors @ query).astype(np.float64)
