"""Training the evidence model on small hand-made cases: deterministic, and it learns the obvious."""

from __future__ import annotations

import numpy as np
import pytest

from eval.training.examples import Case, sentence_label
from eval.training.fit import case_rows, fit, refusal_threshold
from eval.training.quality import quality_report
from rag.generate.answer_model import EvidenceParams, LogisticModel
from rag.types import Passage

FACTS = [
    ("成都", "成都有多少个区？", "成都共有12个区。", "12个"),
    ("重庆", "重庆有多少个区？", "重庆共有26个区。", "26个"),
    ("武汉", "武汉有多少个区？", "武汉共有13个区。", "13个"),
    ("西安", "西安有多少个区？", "西安共有11个区。", "11个"),
    ("南京", "南京有多少个区？", "南京共有11个区县。", "11个"),
    ("杭州", "杭州有多少个区？", "杭州共有10个区。", "10个"),
]


class Stats:
    def idf(self, term: str) -> float:
        return 2.0 if len(term) > 1 else 1.0

    def known(self, term: str) -> bool:
        return True


def _cases() -> list[Case]:
    cases = []
    for i, (city, question, fact, answer) in enumerate(FACTS * 3):
        filler = f"{city}是一座历史悠久的城市。{city}的气候温和。"
        gold = Passage(chunk_id=f"g{i}", doc_id=f"doc{i}", text=filler + fact, start=0, end=40, title=city)
        other = Passage(
            chunk_id=f"o{i}", doc_id=f"other{i}", text="这里讲的是别的事情。天气很好。", start=0, end=15
        )
        base = dict(
            dataset="toy", group=f"g{i % 6}", question=question, answers=(answer,), gold_doc=f"doc{i}"
        )
        cases.append(
            Case(id=f"q{i}:retrieved", kind="retrieved", passages=[gold, other], answerable=True, **base)
        )
        cases.append(
            Case(id=f"q{i}:gold_removed", kind="gold_removed", passages=[other], answerable=False, **base)
        )
    return cases


@pytest.fixture
def rows(hash_embedder):
    return [case_rows(c, embedder=hash_embedder, stats=Stats()) for c in _cases()]


def test_labels_mark_the_gold_sentence_only():
    case = _cases()[0]
    gold, other = case.passages
    assert sentence_label(case, gold, "成都共有12个区。") == 1.0
    assert sentence_label(case, gold, "成都的气候温和。") == 0.0
    assert sentence_label(case, other, "天气很好。") == 0.0


def test_fitting_is_deterministic_and_learns_the_answer_sentence(rows):
    first, second = fit(rows), fit(rows)
    assert np.array_equal(first.sentence.coef, second.sentence.coef)
    assert np.array_equal(first.answerable_oof, second.answerable_oof)
    report = quality_report(rows, first)
    assert report["overall"]["answer_sentence_accuracy"] == 1.0
    assert report["overall"]["answerability_roc_auc"] >= 0.9
    assert 0 < report["thresholds"]["abstain_below"] < 1


def test_the_threshold_refuses_the_asked_share_of_unanswerables():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.7])
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    threshold = refusal_threshold(scores, labels, 0.75)
    assert np.mean(scores[labels == 0] < threshold) >= 0.75
    assert 0.3 < threshold <= 0.4 + 1e-9


def test_parameters_round_trip_and_a_feature_mismatch_is_refused(tmp_path, rows):
    fitted = fit(rows)
    params = EvidenceParams(fitted.sentence, fitted.answerable, 0.5, 0.9, 0.01, info={"x": 1})
    path = tmp_path / "model.json"
    params.save(path)
    loaded = EvidenceParams.load(path)
    assert np.allclose(loaded.sentence.coef, params.sentence.coef, atol=1e-6)
    assert loaded.abstain_below == 0.5 and loaded.info == {"x": 1}
    data = path.read_text(encoding="utf-8").replace('"cov_sentence"', '"renamed"', 1)
    path.write_text(data, encoding="utf-8")
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="retrain"):
        EvidenceParams.load(path)


def test_the_committed_model_matches_the_features_this_code_computes():
    params = EvidenceParams.load()
    assert isinstance(params.sentence, LogisticModel)
    assert 0 < params.abstain_below < 1 and 0 <= params.cite_below < 1
    assert params.info.get("trained_on") and "sichuan" not in params.info["trained_on"]
