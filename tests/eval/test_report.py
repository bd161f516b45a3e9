import json
import re
from dataclasses import asdict

from eval.gate import Comparison, compare, load_tolerances
from eval.report import COMPARISON_FILE, render_report, write_report
from eval.runner import summarize, write_run


def summary_for(results) -> dict:
    summary = summarize(results)
    return summary | {
        "dataset": "tiny",
        "source": "",
        "run": {"date": "2026-01-01", "config": {}, "versions": {}},
    }


def test_report_escapes_document_and_answer_text(results, result_rows, hostile):
    page = render_report(summary_for(results), result_rows)
    assert hostile not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page  # Jinja2's escape
    assert page.count("<script>") == 1  # the page's own filter script, nothing from the data
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_report_is_self_contained_with_inline_svg_charts(results, result_rows):
    page = render_report(summary_for(results), result_rows)
    assert page.count("<svg") == 4  # metric bars, hit@k curve, latency histogram, failure reasons
    for title in ("Metrics by language", "hit@k (answerable questions)", "Latency per question (total)"):
        assert title in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, nothing remote


def test_report_has_one_filterable_row_per_question(results, result_rows):
    page = render_report(summary_for(results), result_rows)
    rows = re.findall(r'<tr id="q-([^"]+)" data-status="(pass|fail)" data-lang="([^"]+)"', page)
    assert rows == [("q1", "pass", "zh-Hans"), ("q2", "fail", "en"), ("q3", "pass", "zh-Hans")]
    assert 'id="filter-text"' in page and 'id="filter-status"' in page
    q2 = page[page.index('id="q-q2"') : page.index('id="q-q3"')]
    assert "answer incorrect" in q2 and "doc-b" in q2 and "✗ no evidence" in q2
    assert "before verification: 2" in q2  # the verifier dropped a citation


def test_summary_table_shows_unmeasured_metrics_as_dashes(results, result_rows):
    page = render_report(summary_for(results), result_rows)
    row = re.search(r"<tr><td>faithfulness</td>(.*?)</tr>", page).group(1)
    assert row.count(">—<") == 3  # all, en, zh-Hans
    assert "not measured: no LLM judge configured" in page
    unverified = re.search(r"<tr><td>citation_precision_unverified</td>(.*?)</tr>", page).group(1)
    assert ">0.500<" in unverified  # measured for the English question only


def test_comparison_lists_regressions_and_flipped_questions(results, result_rows):
    summary = summary_for(results)
    baseline = json.loads(json.dumps(summary))
    baseline["metrics"]["answer_correct"] = 0.9
    baseline["passed"] = {"q1": False, "q2": True, "q3": True}
    comparison = compare(summary, baseline, load_tolerances())
    page = render_report(summary, result_rows, comparison)
    assert "REGRESSION: the gate fails" in page
    assert re.search(r"<tr class=regressed><td>answer_correct</td>", page)
    assert 'Now failing (passed in the baseline): 1</h3><ul class=plain><li><a href="#q-q2">' in page
    assert 'Now passing (failed in the baseline): 1</h3><ul class=plain><li><a href="#q-q1">' in page
    assert "pass → fail" in page and "fail → pass" in page


def test_comparison_round_trips_through_json():
    comparison = compare(
        {"metrics": {"hit@5": 0.5, "n": 2}, "passed": {"a": False}},
        {"metrics": {"hit@5": 0.9, "n": 2}, "passed": {"a": True}},
        {"hit@5": 0.02},
    )
    data = json.loads(json.dumps(comparison.to_dict()))
    assert data["regressed"] and data["now_failing"] == ["a"]
    assert data["rows"] == [
        {
            "metric": "hit@5",
            "baseline": 0.9,
            "now": 0.5,
            "delta": -0.4,
            "tolerance": 0.02,
            "regressed": True,
            "beyond_tolerance": True,
            "paired": None,  # a baseline without per-question values: no paired test
            "status": "REGRESSED",
        }
    ]
    assert data["paired_questions"] is None
    assert Comparison.from_dict(data) == comparison


def test_write_report_reads_a_run_folder_and_its_comparison(tmp_path, results):
    summary = summary_for(results)
    write_run(tmp_path, results, summary)
    baseline = summary | {"passed": {"q1": True, "q2": True, "q3": True}}
    comparison = compare(summary, baseline, load_tolerances())
    (tmp_path / COMPARISON_FILE).write_text(json.dumps(comparison.to_dict()), encoding="utf-8")
    path = write_report(tmp_path)
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    assert "Baseline comparison" in page and '<a href="#q-q2">' in page
    plain = render_report(summary, [asdict(r) | {"run": summary["run"]} for r in results])
    assert "Baseline comparison" not in plain and plain.count('<tr id="q-') == 3
