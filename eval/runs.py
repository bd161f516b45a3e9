"""Runs on disk and several runs together: load a run folder or a baseline for ``--compare``, and
pool ``--repeat`` runs of a nondeterministic generator into one run plus the spread between them."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eval.items import Dataset
from eval.judge import FaithfulnessJudge
from eval.report import write_report
from eval.runner import EvalResult, run_dataset, summarize, write_run
from eval.stats import StatsConfig, per_question
from rag.errors import ConfigError
from rag.pipeline import Assistant
from rag.settings import Settings


@dataclass(frozen=True)
class StoredRun:
    """What a comparison needs from a run: its summary (or baseline), every question's metric
    values, and the question texts."""

    label: str
    summary: dict[str, Any]
    questions: dict[str, dict[str, float]] | None
    texts: dict[str, str]
    rows: list[dict[str, Any]]  # results.jsonl ([] for a baseline file)

    def as_baseline(self) -> dict[str, Any]:
        return {
            "metrics": self.summary.get("metrics", {}),
            "passed": self.summary.get("passed", {}),
            "questions": self.questions,
            "run": self.summary.get("run", {}),
        }


def load_run(path: Path) -> StoredRun:
    """A run folder (``summary.json`` + ``results.jsonl``) or a baseline file."""
    if path.is_file() and path.name == "summary.json":
        path = path.parent
    if path.is_dir():
        summary_file, results_file = path / "summary.json", path / "results.jsonl"
        for needed in (summary_file, results_file):
            if not needed.is_file():
                raise ConfigError(f"{path}: not a run folder ({needed.name} is missing)")
        summary = _json(summary_file)
        rows = []
        for number, line in enumerate(results_file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{results_file}:{number}: not valid JSON: {exc.msg}") from exc
        texts = {r["id"]: r.get("question", "") for r in rows}
        return StoredRun(str(path), summary, per_question(rows), texts, rows)
    if path.is_file():
        data = _json(path)
        if not isinstance(data.get("metrics"), dict):
            raise ConfigError(f"{path}: neither a run folder nor a baseline (no 'metrics')")
        return StoredRun(str(path), data, data.get("questions"), {}, [])
    raise ConfigError(f"{path}: no such run folder or baseline file")


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def pool_repeats(runs: list[list[EvalResult]]) -> list[EvalResult]:
    """One result per question: metrics averaged over the repeats, passed (and abstained) when a
    majority of the repeats passed; the answer and timings shown are the first repeat's."""
    if not runs:
        raise ValueError("no runs to pool")
    by_id = [{r.id: r for r in results} for results in runs]
    pooled = []
    for first in runs[0]:
        repeats = [run[first.id] for run in by_id if first.id in run]
        names = sorted({name for r in repeats for name in r.metrics})
        metrics = {}
        for name in names:
            values = [r.metrics[name] for r in repeats if r.metrics.get(name) is not None]
            metrics[name] = round(sum(values) / len(values), 4) if values else None
        majority = len(repeats) / 2
        pooled.append(
            replace(
                first,
                metrics=metrics,
                passed=sum(r.passed for r in repeats) > majority,
                abstained=sum(r.abstained for r in repeats) > majority,
            )
        )
    return pooled


def spread(summaries: list[dict[str, Any]], runs: list[list[EvalResult]]) -> dict[str, Any]:
    """How much the repeats disagree: per metric the mean, standard deviation, min and max of the
    run means, and the questions whose pass/fail changed between repeats."""
    metrics: dict[str, dict[str, float]] = {}
    for name, first in summaries[0]["metrics"].items():
        if name == "n" or not isinstance(first, int | float):
            continue
        values = [s["metrics"].get(name) for s in summaries]
        values = [v for v in values if isinstance(v, int | float)]
        if values:
            metrics[name] = {
                "mean": round(statistics.fmean(values), 4),
                "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                "min": min(values),
                "max": max(values),
            }
    outcomes: dict[str, list[bool]] = {}
    for results in runs:
        for r in results:
            outcomes.setdefault(r.id, []).append(r.passed)
    unstable = {qid: passed for qid, passed in outcomes.items() if len(set(passed)) > 1}
    return {"n": len(summaries), "metrics": metrics, "unstable": unstable}


def format_spread(repeat: dict[str, Any], shown: tuple[str, ...]) -> str:
    lines = [
        f"spread over {repeat['n']} repeats (run means)",
        f"{'metric':<30}{'mean':>8}{'sd':>8}{'min':>8}{'max':>8}",
        "-" * 62,
    ]
    for name in shown:
        row = repeat["metrics"].get(name)
        if row:
            lines.append(
                f"{name:<30}{row['mean']:>8.3f}{row['sd']:>8.3f}{row['min']:>8.3f}{row['max']:>8.3f}"
            )
    unstable = repeat["unstable"]
    lines.append(f"\nquestions whose pass/fail changed between repeats: {len(unstable)}")
    lines += [
        f"  {qid}  {' '.join('pass' if ok else 'fail' for ok in passed)}" for qid, passed in unstable.items()
    ]
    return "\n".join(lines)


def run_repeated(
    dataset: Dataset,
    settings: Settings,
    *,
    repeats: int,
    out: Path,
    limit: int | None = None,
    judge: FaithfulnessJudge | None = None,
    stats: StatsConfig | None = None,
    assistant: Assistant | None = None,
) -> tuple[list[EvalResult], dict[str, Any]]:
    """Run ``repeats`` times on one open knowledge base; each repeat is a full run folder
    (``out/repeat-N``), and the pooled run (returned) carries ``summary["repeat"]``."""
    if repeats < 2:
        raise ValueError(f"--repeat must be at least 2 to measure a spread; got {repeats}")
    assistant = assistant or Assistant.from_settings(settings)
    runs, summaries = [], []
    for number in range(1, repeats + 1):
        results, summary = run_dataset(
            dataset, settings, limit=limit, assistant=assistant, judge=judge, stats=stats
        )
        write_run(out / f"repeat-{number}", results, summary)
        write_report(out / f"repeat-{number}")
        runs.append(results)
        summaries.append(summary)
    pooled = pool_repeats(runs)
    summary = summarize(pooled, judge=judge.name if judge else None, stats=stats)
    summary |= {k: summaries[0][k] for k in ("dataset", "source", "run", "index") if k in summaries[0]}
    summary["repeat"] = spread(summaries, runs)
    return pooled, summary
