"""Eval tab: the latest run, its summary table, the baseline comparison and the report frame."""

from __future__ import annotations

import html
import json
import os
import sys

from ui import evaluation


def baseline() -> dict:
    return json.loads(evaluation.BASELINE.read_text(encoding="utf-8"))


def write_run(folder, summary: dict, results: list[dict], *, mtime: float) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    (folder / "results.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8"
    )
    os.utime(folder / "summary.json", (mtime, mtime))


def test_latest_run_is_the_newest_folder_with_a_summary(tmp_path):
    assert evaluation.latest_run(tmp_path) is None
    write_run(tmp_path / "eval" / "sichuan-1", baseline(), [], mtime=1000)
    write_run(tmp_path / "eval" / "sichuan-2", baseline(), [], mtime=2000)
    (tmp_path / "eval" / "corpora").mkdir()
    assert evaluation.latest_run(tmp_path) == tmp_path / "eval" / "sichuan-2"


def test_summary_table_lists_metrics_overall_with_intervals_and_per_language():
    summary = baseline() | {"intervals": {"confidence": 0.95, "metrics": {"hit@5": [0.8123, 0.9456]}}}
    table = evaluation.summary_table(summary)
    assert "<th>zh-Hant</th>" in table and "<th>hit@5</th>" in table
    assert "<th>指标 metric</th><th>全部 all</th><th>95% 置信区间 CI</th>" in table  # both languages
    assert f"{baseline()['metrics']['hit@5']:.3f}" in table and "[0.812, 0.946]" in table
    assert "sichuan: 75 题 questions" in table


def test_the_intro_names_the_knowledge_base_the_runner_uses():
    from rag.settings import Settings
    from ui import strings

    settings = Settings(chunk_size=200)
    intro = strings.eval_intro(evaluation.collections(settings))
    assert "`eval-sichuan-c200`" in intro and "`eval-archive-c200`" in intro
    assert "eval/baselines/archive.json" in intro and "Runs an eval set" in intro


def test_a_run_equal_to_the_baseline_shows_no_regression(tmp_path):
    write_run(tmp_path / "eval" / "sichuan-1", baseline(), [], mtime=1000)
    view = evaluation.load_run(tmp_path / "eval" / "sichuan-1")
    assert "no regression beyond tolerances" in view.comparison
    assert view.run_dir == tmp_path / "eval" / "sichuan-1"


def test_another_dataset_is_not_compared_with_the_sichuan_baseline():
    view = evaluation.view(baseline() | {"dataset": "cmrc"}, [], None, write=False)
    assert "没有基线可比" in view.comparison and "No baseline comparison" in view.comparison


def test_the_archive_set_is_compared_with_its_own_baseline():
    archive = json.loads(evaluation.baseline_of("archive").read_text(encoding="utf-8"))
    view = evaluation.view(archive, [], None, write=False)
    assert "no regression beyond tolerances" in view.comparison and "archive: 17" in view.summary_html


def test_an_unknown_eval_set_is_refused_naming_it(tmp_path):
    import pytest

    from rag.settings import Settings

    with pytest.raises(ValueError, match="'cmrc'"):
        evaluation.run_bundled(Settings(data_dir=tmp_path), "cmrc")


def test_report_is_shown_in_a_sandboxed_frame_with_the_page_escaped():
    frame = evaluation.report_frame('<p class="x">"quoted" & <script>alert(1)</script></p>')
    assert frame.startswith('<iframe class="eval-report" sandbox="allow-scripts" srcdoc="')
    srcdoc = frame.split('srcdoc="', 1)[1].split('" title=', 1)[0]
    assert '"' not in srcdoc and "<" not in srcdoc
    assert html.unescape(srcdoc) == '<p class="x">"quoted" & <script>alert(1)</script></p>'


def test_without_the_report_module_the_summary_is_shown_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "eval.report", None)  # importing it now raises ImportError
    view = evaluation.view(baseline(), [], None, write=False)
    assert view.report_html == "" and "<table" in view.summary_html


def test_with_the_report_module_the_saved_report_is_shown(tmp_path):
    folder = tmp_path / "eval" / "sichuan-1"
    write_run(folder, baseline(), [], mtime=1000)
    (folder / "report.html").write_text("<h1>saved report</h1>", encoding="utf-8")
    view = evaluation.load_run(folder)
    if "eval.report" in sys.modules or _importable("eval.report"):
        assert "&lt;h1&gt;saved report&lt;/h1&gt;" in view.report_html


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
