import math

import pytest

from eval import metrics
from eval.normalize import contains, normalize


def test_normalize_folds_width_script_ruby_and_case():
    assert normalize("武侯區(qū) ＡＢＣ  49") == normalize("武侯区abc49")


def test_contains_ignores_punctuation_and_spacing():
    assert contains("成功创建49个省级现代服务业集聚区,并涌现", "49个 省级现代服务业集聚区")
    assert contains("“立園滿園”行動", "立园满园")
    assert not contains("成功创建49个", "50个")
    assert not contains("anything", "  ")


def test_ranking_metrics():
    relevant = [False, True, False, True]
    assert metrics.hit_at_k(relevant, 1) == 0.0
    assert metrics.hit_at_k(relevant, 2) == 1.0
    assert metrics.reciprocal_rank(relevant) == 0.5
    assert metrics.reciprocal_rank(relevant, k=1) == 0.0
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at_k(relevant) == pytest.approx(expected)
    assert metrics.ndcg_at_k([False, False]) == 0.0
    with pytest.raises(ValueError, match="got 0"):
        metrics.hit_at_k(relevant, 0)


def test_passage_relevance_uses_evidence_then_gold_document():
    assert metrics.passage_is_relevant("…成功创建49个省级…", "d1", gold_doc="d2", evidence=["创建49个"])
    assert not metrics.passage_is_relevant("无关", "d1", gold_doc="d1", evidence=["创建49个"])
    assert metrics.passage_is_relevant("无关", "d1", gold_doc="d1", evidence=[])


def test_answer_correctness_needs_every_group():
    groups = [["49"], ["集聚区", "clusters"]]
    assert metrics.answer_correct("49 provincial clusters [1]", groups)
    assert metrics.answer_correct("成功创建49个省级现代服务业集聚區", groups)
    assert not metrics.answer_correct("49 parks", groups)
    assert not metrics.answer_correct("anything", [])


def test_squad_exact_match_and_f1():
    assert metrics.exact_match(" 踢爆 ", ["踢爆"]) == 1.0
    assert metrics.token_f1("韩国Nexon开发", ["Nexon"]) == pytest.approx(2 * (1 / 5) * 1 / (1 / 5 + 1))
    assert metrics.token_f1("完全无关", ["踢爆"]) == 0.0


def test_citation_metrics():
    assert metrics.citation_precision([True, False]) == 0.5
    assert metrics.citation_precision([]) is None
    assert metrics.citation_recall([False, True]) == 1.0
    assert metrics.citation_recall([]) == 0.0


def test_abstention_and_percentiles():
    assert metrics.abstention_correct(True, False) and not metrics.abstention_correct(True, True)
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile([5], 95) == 5
    assert metrics.percentile([], 50) is None
    assert metrics.mean([1.0, None, 3.0]) == 2.0 and metrics.mean([None]) is None
