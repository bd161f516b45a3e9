"""The gate knows its noise: a drop fails it only when beyond tolerance *and* significant (paired
over questions), old baselines still gate point by point, and ``--compare`` diffs two runs."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cli.main import main
from eval.datasets import DATASETS_DIR, Dataset, load_jsonl
from eval.gate import (
    baseline_from_summary,
    compare,
    dumps_baseline,
    format_comparison,
    load_baseline,
    load_tolerances,
)
from eval.report import render_report
from eval.runner import run_dataset, write_run
from eval.stats import per_question
from rag.index import KnowledgeBase
from rag.pipeline import Assistant
from rag.settings import PROJECT_ROOT, Settings
from vectorstore.chroma_store import make_client

TOLERANCES = {"hit@1": 0.03, "pass_rate": 0.03}


def synthetic(n: int, passing: int) -> tuple[dict, dict]:
    """A summary and its per-question values: ``passing`` of ``n`` questions pass (and hit@1)."""
    questions = {
        f"q{i:02d}": {"hit@1": float(i < passing), "pass_rate": float(i < passing)} for i in range(n)
    }
    mean = round(passing / n, 4)
    summary = {
        "metrics": {"hit@1": mean, "pass_rate": mean, "n": n},
        "passed": {q: i < passing for i, q in enumerate(questions)},
    }
    return summary, questions


def test_a_real_drop_fails_and_one_flip_beyond_tolerance_passes():
    summary, questions = synthetic(20, 12)
    baseline = baseline_from_summary(summary, questions)
    worse_summary, worse = synthetic(20, 4)  # eight questions lost: p = 1/256
    gate = compare(worse_summary, baseline, TOLERANCES, questions=worse)
    assert gate.regressed and gate.paired_questions == 20
    row = next(r for r in gate.rows if r.metric == "hit@1")
    assert row.paired.test == "mcnemar" and row.paired.p_value < 0.01 and row.status == "REGRESSED"
    assert gate.now_failing == [f"q{i:02d}" for i in range(4, 12)]

    noisy_summary, noisy = synthetic(20, 11)  # one flip: 0.05 > tolerance 0.03, but p = 0.5
    gate = compare(noisy_summary, baseline, TOLERANCES, questions=noisy)
    assert not gate.regressed and gate.now_failing == ["q11"]
    row = next(r for r in gate.rows if r.metric == "hit@1")
    assert row.beyond_tolerance and row.status == "drop not significant (p=0.50)"
    text = format_comparison(gate, {"q11": "the flipped question"})
    assert "drop not significant" in text and "q11  the flipped question" in text
    assert "no regression beyond tolerances" in text


def test_an_old_baseline_without_per_question_values_gates_point_by_point():
    summary, questions = synthetic(20, 12)
    old = {k: v for k, v in baseline_from_summary(summary).items() if k != "questions"}
    noisy_summary, noisy = synthetic(20, 11)
    gate = compare(noisy_summary, old, TOLERANCES, questions=noisy)
    assert gate.regressed and gate.paired_questions is None  # tolerance alone decides, as before
    assert all(r.paired is None for r in gate.rows)
    assert "no per-question values: compared point by point" in format_comparison(gate)


def test_paired_values_cover_the_questions_both_runs_scored():
    summary, questions = synthetic(20, 10)
    baseline = baseline_from_summary(summary, questions)
    part = {q: v for q, v in questions.items() if q < "q10"}  # like --limit 10: all passing ones
    gate = compare({"metrics": {"hit@1": 1.0}, "passed": {}}, baseline, TOLERANCES, questions=part)
    row = next(r for r in gate.rows if r.metric == "hit@1")
    assert (row.baseline, row.now, row.paired.n) == (1.0, 1.0, 10) and not gate.regressed


def test_baselines_store_compact_per_question_values_and_read_back(tmp_path, results):
    from eval.runner import summarize

    summary = summarize(results) | {"dataset": "t", "run": {"date": "d"}}
    text = dumps_baseline(baseline_from_summary(summary, per_question(results)))
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    q1 = next(line for line in lines if line.strip().startswith('"q1": {'))
    assert q1.strip().startswith('"q1": {"abstention_correct": 1, ') and q1.endswith("},")  # one line
    baseline = load_baseline(path)
    assert baseline["format"] == 2 and baseline["questions"]["q2"]["pass_rate"] == 0
    assert baseline["intervals"]["metrics"]["pass_rate"]
    assert not compare(summary, baseline, load_tolerances(), questions=per_question(results)).regressed


@pytest.fixture(scope="module")
def sichuan_runs(tmp_path_factory, hash_embedder_class):
    """Real runs of the bundled set on one knowledge base (hash embedder, in-memory Chroma): the
    default configuration, a worse one (dense retrieval, one passage), and the default with the top
    two passages of one question swapped."""
    tmp = tmp_path_factory.mktemp("runs")
    settings = Settings(data_dir=tmp / "data", collection="gate-runs", progress=False)
    kb = KnowledgeBase(settings=settings, embedder=hash_embedder_class(), client=make_client())
    items = load_jsonl(DATASETS_DIR / "sichuan.jsonl")
    dataset = Dataset("sichuan", items, [PROJECT_ROOT / "data" / "corpus" / "sichuan"])
    folders = {}

    def run(name, settings, retriever_wrapper=None):
        assistant = Assistant(settings, kb=kb)
        if retriever_wrapper:
            assistant.retriever = retriever_wrapper(assistant.retriever)
        results, summary = run_dataset(dataset, settings, assistant=assistant)
        write_run(tmp / name, results, summary)
        folders[name] = tmp / name
        return results

    default = run("default", kb.settings)
    target = next(
        r for r in default if r.metrics.get("hit@1") == 1.0 and r.retrieved and not r.retrieved[1]["relevant"]
    )
    run("worse", kb.settings.with_overrides(retrieval_mode="dense", top_k=1))
    run("reordered", kb.settings, lambda base: SwapTopTwo(base, target.question))
    return folders, target


class SwapTopTwo:
    """A retriever that swaps the first two passages for one question (a harmless reordering)."""

    def __init__(self, base, question: str) -> None:
        self.base, self.question = base, question

    def retrieve(self, question, **kwargs):
        result = self.base.retrieve(question, **kwargs)
        if question == self.question:
            result.passages[0], result.passages[1] = result.passages[1], result.passages[0]
        return result


@pytest.mark.slow
def test_compare_fails_a_configuration_worse_by_a_real_margin(sichuan_runs, capsys, tmp_path):
    folders, _ = sichuan_runs
    status = main(
        ["eval", "--compare", str(folders["default"]), str(folders["worse"]), "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert status == 1 and "REGRESSION: the gate fails" in printed
    assert "paired over 75 questions" in printed and "pass in A, fail in B:" in printed
    rows = {r["metric"]: r for r in json.loads((tmp_path / "comparison.json").read_text())["rows"]}
    assert rows["answer_correct"]["regressed"] and rows["answer_correct"]["paired"]["p_value"] < 0.05
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "CI of delta" in report and "McNemar" in report and "REGRESSED" in report


@pytest.mark.slow
def test_compare_passes_a_harmless_reordering_that_flips_one_question(sichuan_runs, capsys):
    folders, target = sichuan_runs
    status = main(["eval", "--compare", str(folders["default"]), str(folders["reordered"])])
    printed = capsys.readouterr().out
    assert status == 0 and "no regression beyond tolerances" in printed
    changed = printed.split("questions whose metrics changed:")[1]
    assert f"{target.id}  " in changed and "hit@1 1.000→0.000" in changed and "mrr@10 1.000→0.500" in changed


@pytest.mark.slow
def test_compare_refuses_an_old_baseline_and_a_missing_run(sichuan_runs, tmp_path, capsys):
    folders, _ = sichuan_runs
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"metrics": {"hit@1": 0.5}, "passed": {}}), encoding="utf-8")
    assert main(["eval", "--compare", str(old), str(folders["default"])]) == 1
    assert "has no per-question values" in capsys.readouterr().err
    assert main(["eval", "--compare", str(tmp_path / "nope"), str(folders["default"])]) == 1
    assert "no such run folder or baseline file" in capsys.readouterr().err
    assert main(["eval", "--compare", str(old), str(old), "--repeat", "3"]) == 1
    assert "--compare reads two finished runs" in capsys.readouterr().err


@pytest.mark.slow
def test_the_report_shows_intervals(sichuan_runs):
    folders, _ = sichuan_runs
    summary = json.loads((folders["default"] / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folders["default"] / "results.jsonl").read_text().splitlines()]
    ci = summary["intervals"]["metrics"]["answer_correct"]
    assert ci[0] < summary["metrics"]["answer_correct"] < ci[1]
    page = render_report(summary, rows)
    assert f"[{ci[0]:.3f}, {ci[1]:.3f}]" in page and "95% bootstrap confidence intervals" in page


def test_repeats_pool_per_question_and_report_the_spread(results):
    from eval.runner import summarize
    from eval.runs import format_spread, pool_repeats, spread

    flipped = [replace(results[0], passed=False, metrics=results[0].metrics | {"answer_correct": 0.0})]
    runs = [results, flipped + results[1:], results]
    pooled = pool_repeats(runs)
    assert pooled[0].passed and pooled[0].metrics["answer_correct"] == round(2 / 3, 4)
    summaries = [summarize(r) for r in runs]
    found = spread(summaries, runs)
    assert found["n"] == 3 and found["unstable"] == {"q1": [True, False, True]}
    assert found["metrics"]["answer_correct"]["min"] == 0.0 and found["metrics"]["answer_correct"]["sd"] > 0
    assert "q1  pass fail pass" in format_spread(found, ("answer_correct",))
