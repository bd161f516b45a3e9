import pytest

from eval.stats import (
    StatsConfig,
    bootstrap_ci,
    compact,
    intervals,
    mcnemar_p,
    paired_test,
    per_question,
    question_values,
)
from rag.errors import ConfigError


def test_bootstrap_intervals_are_deterministic_and_hold_the_mean():
    values = [1.0] * 30 + [0.0] * 45
    first, second = bootstrap_ci(values), bootstrap_ci(values)
    assert first == second
    low, high = first
    assert low < 0.4 < high and 0.15 < high - low < 0.3
    wide = bootstrap_ci(values[::5])  # fewer questions: a wider interval
    assert wide[1] - wide[0] > high - low
    assert bootstrap_ci([0.5, 0.5]) == (0.5, 0.5) and bootstrap_ci([]) is None


def test_confidence_level_widens_the_interval():
    values = [1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 0.25, 1.0] * 5
    narrow, wide = (
        bootstrap_ci(values, StatsConfig(confidence=0.8)),
        bootstrap_ci(values, StatsConfig(confidence=0.99)),
    )
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_exact_mcnemar():
    assert mcnemar_p(1, 0) == 0.5  # one flip is a coin toss
    assert mcnemar_p(5, 0) == 1 / 32
    assert mcnemar_p(3, 3) == 42 / 64
    assert mcnemar_p(0, 4) == 1.0 and mcnemar_p(0, 0) == 1.0


def test_paired_test_picks_mcnemar_for_pass_fail_and_bootstrap_otherwise():
    before = [1.0] * 20 + [0.0] * 20
    after = [0.0] * 8 + [1.0] * 12 + [0.0] * 20  # eight questions lost
    binary = paired_test(before, after)
    assert binary.test == "mcnemar" and (binary.worse, binary.better) == (8, 0)
    assert binary.p_value == round(1 / 256, 4) and binary.delta == -0.2
    assert binary.ci[0] < -0.2 < binary.ci[1] < 0
    graded = paired_test([0.5, 1.0, 0.33] * 10, [0.25, 1.0, 0.33] * 10)
    assert graded.test == "paired bootstrap" and graded.p_value < 0.01 and graded.worse == 10
    improved = paired_test(before, [1.0] * 40)
    assert improved.p_value == 1.0 and improved.better == 20
    # lower is better (false abstention): more abstentions are the drop
    assert paired_test([0.0] * 10, [1.0] * 6 + [0.0] * 4, lower_is_better=True).p_value < 0.05
    same = paired_test([1.0, 0.0], [1.0, 0.0])
    assert (same.test, same.p_value, same.delta) == ("none needed", 1.0, 0.0)
    assert paired_test([], []) is None
    with pytest.raises(ValueError, match="differ in length"):
        paired_test([1.0], [])


def test_every_recorded_metric_gets_an_interval(results):
    values = per_question(results)
    assert values["q3"]["unanswerable_abstention"] == 1.0 and "unanswerable_abstention" not in values["q1"]
    assert values["q1"]["pass_rate"] == 1.0 and values["q2"]["pass_rate"] == 0.0
    assert question_values({"metrics": {"new_metric": 0.5, "none": None}, "passed": True}) == {
        "new_metric": 0.5,
        "pass_rate": 1.0,
    }
    found = intervals(values, {r.id: r.lang for r in results})
    assert found["confidence"] == 0.95 and found["seed"] == 0
    assert set(found["metrics"]) >= {"hit@1", "answer_correct", "pass_rate", "citation_precision"}
    assert found["by_lang"]["en"]["answer_correct"] == [0.0, 0.0]
    assert compact({"q": {"a": 1.0, "b": 0.33333}}) == {"q": {"a": 1, "b": 0.3333}}


def test_statistics_settings_are_validated(tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text("[statistics]\nalpha = 0.01\nresamples = 500\n", encoding="utf-8")
    assert StatsConfig.load(path) == StatsConfig(alpha=0.01, resamples=500)
    path.write_text("[statistics]\nalpah = 0.01\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown \\[statistics\\] keys: alpah"):
        StatsConfig.load(path)
    path.write_text("[statistics]\nresamples = 2000.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="resamples must be an integer; got 2000.5"):
        StatsConfig.load(path)
    path.write_text("[statistics]\nalpha = 0.7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="alpha must be within"):
        StatsConfig.load(path)
    assert StatsConfig.load() == StatsConfig()  # the committed eval/gate.toml holds the defaults


def test_metrics_the_runner_learns_later_get_intervals_in_the_console(results):
    from eval.command import format_summary
    from eval.runner import summarize

    for r in results:
        r.metrics["selective_accuracy"] = 1.0 if r.id != "q2" else 0.0  # a metric added later
    summary = summarize(results) | {"dataset": "t"}
    assert summary["intervals"]["metrics"]["selective_accuracy"] == [0.0, 1.0]  # whatever is recorded
    summary["metrics"]["selective_accuracy"] = 0.6667  # once METRIC_KEYS lists it
    line = next(x for x in format_summary(summary).splitlines() if x.startswith("selective_accuracy"))
    assert "[0.000, 1.000]" in line
