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


def test_summary_table_lists_metrics_overall_and_per_language():
    table = evaluation.summary_table(baseline())
    assert "<th>zh-Hant</th>" in table and "<th>hit@5</th>" in table
    assert f"{baseline()['metrics']['hit@5']:.3f}" in table
    assert "sichuan: 75 questions" in table


def test_a_run_equal_to_the_baseline_shows_no_regression(tmp_path):
    write_run(tmp_path / "eval" / "sichuan-1", baseline(), [], mtime=1000)
    view = evaluation.load_run(tmp_path / "eval" / "sichuan-1")
    assert "no regression beyond tolerances" in view.comparison
    assert view.run_dir == tmp_path / "eval" / "sichuan-1"


def test_another_dataset_is_not_compared_with_the_sichuan_baseline():
    view = evaluation.view(baseline() | {"dataset": "cmrc"}, [], None, write=False)
    assert "no baseline comparison" in view.comparison


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
