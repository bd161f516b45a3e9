import json
import re

import pytest

from eval.grid import (
    DEFAULT_GRID_FILE,
    GridRun,
    GridSpec,
    format_grid,
    label,
    load_grid,
    parse_grid,
    render_grid_html,
    sort_runs,
    write_grid,
)
from rag.errors import ConfigError


def test_the_matrix_expands_with_index_axes_varying_slowest():
    spec = parse_grid(
        {"grid": {"top_k": [3, 5], "retrieval_mode": ["hybrid", "keyword"], "chunk_size": [200, 300]}}
    )
    combos = spec.combinations()
    assert len(combos) == 8
    assert combos[0] == {"chunk_size": 200, "top_k": 3, "retrieval_mode": "hybrid"}
    assert [c["chunk_size"] for c in combos] == [200] * 4 + [300] * 4
    assert label(combos[1]) == "c200 k3 keyword"
    assert spec.sort_by == "answer_correct"


def test_the_default_grid_file_is_small_and_valid():
    spec = load_grid(DEFAULT_GRID_FILE)
    assert set(spec.axes) <= {"chunk_size", "top_k", "retrieval_mode"}
    assert 2 <= len(spec.combinations()) <= 12


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grid": {"chunk_sizes": [200]}}, "unknown grid axis 'chunk_sizes'"),
        ({"grid": {"top_k": []}}, "top_k needs a non-empty list of values; got []"),
        ({"grid": {"top_k": 5}}, "got 5"),
        ({"grid": {"top_k": ["5"]}}, "takes int values; got '5'"),
        ({"grid": {"retrieval_mode": ["dense", "dense"]}}, "repeats a value"),
        ({"grid": {"top_k": [3]}, "sort_by": "speed"}, "got 'speed'"),
        ({"grid": {}}, "at least one axis"),
        ({"axes": {"top_k": [3]}}, "unknown keys axes"),
    ],
)
def test_bad_grids_are_rejected_with_the_bad_value(data, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_grid(data)


def test_a_missing_or_malformed_grid_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the grid"):
        load_grid(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_grid(bad)


def runs() -> list[GridRun]:
    def run(params, answer, latency):
        metrics = {"hit@5": 0.9, "mrr@10": 0.8, "answer_correct": answer, "citation_precision": 0.5}
        metrics |= {"citation_recall": 0.6, "abstention_correct": 0.7, "latency_p50_ms": latency}
        return GridRun(
            label(params), params, "eval-x", metrics, f"runs/{label(params).replace(' ', '-')}/report.html"
        )

    return [
        run({"top_k": 3, "retrieval_mode": "hybrid"}, 0.4, 900.0),
        run({"top_k": 3, "retrieval_mode": "<b>"}, None, 100.0),
        run({"top_k": 5, "retrieval_mode": "hybrid"}, 0.6, 1500.0),
    ]


def test_runs_sort_by_the_chosen_metric():
    assert [r.label for r in sort_runs(runs(), "answer_correct")] == ["k5 hybrid", "k3 hybrid", "k3 <b>"]
    assert [r.label for r in sort_runs(runs(), "latency_p50_ms")] == ["k3 <b>", "k3 hybrid", "k5 hybrid"]


def test_the_printed_table_lists_every_run_best_first():
    spec = GridSpec({"top_k": [3, 5], "retrieval_mode": ["hybrid", "<b>"]})
    lines = format_grid(runs(), spec).splitlines()
    assert lines[0] == "sorted by answer_correct (higher is better)"
    assert lines[1].split()[:4] == ["top_k", "retrieval_mode", "hit@5", "mrr@10"]
    assert lines[3].split()[:2] == ["5", "hybrid"] and lines[3].split()[4] == "0.600"
    assert lines[5].split()[4] == "—"


def test_grid_outputs_are_json_and_one_escaped_page_with_svg_bars(tmp_path):
    spec = GridSpec({"top_k": [3, 5], "retrieval_mode": ["hybrid", "<b>"]})
    data = {
        "dataset": "tiny",
        "date": "2026-01-01T00:00:00+00:00",
        "limit": 10,
        "grid": spec.axes,
        "sort_by": spec.sort_by,
        "runs": [r.__dict__ for r in sort_runs(runs(), spec.sort_by)],
    }
    json_path, html_path = write_grid(tmp_path, data)
    assert json.loads(json_path.read_text(encoding="utf-8"))["runs"][0]["label"] == "k5 hybrid"
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<b>" not in page and "k3 &lt;b&gt;" in page
    assert page.count('<a href="runs/') == 3 and "first 10 questions" in page
    assert render_grid_html(data) == page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--grid", "--baseline", "eval/baselines/sichuan.json"],
            "--grid cannot be combined with --baseline",
        ),
        (["--sort-by", "mrr@10"], "--sort-by only applies with --grid"),
        (["--grid", "--sort-by", "speed"], "sort_by must be one of"),
        (["--limit", "0"], "--limit must be at least 1; got 0"),
    ],
)
def test_bad_eval_options_are_one_line_errors_before_any_work(argv, message, capsys, tmp_path, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    assert main(["eval", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("rag: error: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "chroma").exists()
