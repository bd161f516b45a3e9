"""The gate for real: a deliberately worse configuration (keyword-only retrieval, one passage for
the answer) against the committed baseline must fail and name the questions that flipped; a
baseline written now stores per-question values, and the same worse run compared with it fails on
significant drops."""

from __future__ import annotations

import json
import re

import pytest

from cli.main import main
from rag.settings import PROJECT_ROOT, load_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]
BASELINE = PROJECT_ROOT / "eval" / "baselines" / "sichuan.json"
WORSE = ["eval", "--dataset", "sichuan", "--mode", "keyword", "--k", "1"]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data dir (fresh index) that shares the already-converted embedding model."""
    models = load_settings().models_dir
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if models.is_dir():
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_PROGRESS", "false")
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    return data_dir


def test_a_worse_configuration_fails_the_gate_and_lists_flipped_questions(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    status = main([*WORSE, "--baseline", str(BASELINE), "--out", str(out)])
    printed = capsys.readouterr().out

    assert status == 1
    assert "REGRESSION: the gate fails" in printed
    assert "paired over 75 questions" in printed  # the committed baseline keeps per-question values
    section = printed.split("now failing (passed in the baseline):")[1].split("\n\n")[0]
    flipped = re.findall(r"^\s+(sc-\d{3})\s", section, flags=re.M)
    assert flipped, printed
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["passed"]
    rows = {
        row["id"]: row
        for row in map(json.loads, (out / "results.jsonl").read_text(encoding="utf-8").splitlines())
    }
    for qid in flipped:
        assert baseline[qid] is True and rows[qid]["passed"] is False
        assert rows[qid]["question"] in section  # listed with its question text
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "REGRESSION: the gate fails" in report and f'<a href="#q-{flipped[0]}">' in report
    assert json.loads((out / "comparison.json").read_text(encoding="utf-8"))["now_failing"] == flipped
    assert f"report:  {out / 'report.html'}" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    low, high = summary["intervals"]["metrics"]["hit@1"]
    assert low <= summary["metrics"]["hit@1"] <= high and "95% CI" in printed

    # A baseline written now carries per-question values; the worse run fails against it on
    # significant drops (paired tests), and --compare diffs the two runs the same way.
    fresh = tmp_path / "sichuan.json"
    default = tmp_path / "default"
    assert main(["eval", "--update-baseline", "--baseline", str(fresh), "--out", str(default)]) == 0
    assert "with per-question values" in capsys.readouterr().out
    written = json.loads(fresh.read_text(encoding="utf-8"))
    assert written["format"] == 2 and len(written["questions"]) == 75
    assert fresh.stat().st_size < 40_000  # small enough to commit
    status = main(["eval", "--compare", str(fresh), str(out)])
    printed = capsys.readouterr().out
    assert status == 1 and "paired over 75 questions" in printed and "REGRESSED" in printed
    assert re.search(r"^answer_correct .* REGRESSED$", printed, flags=re.M)
