"""Eval tab: run a committed eval set, compare with its committed baseline, show the report.

Runs are written where ``rag eval`` writes them (``<data_dir>/eval/<dataset>-<time>/``), so the
latest run, from either, can be viewed here. The HTML report comes from ``eval.report`` when that
module exists; without it the summary table and the comparison are shown alone. No gradio here.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from rag.settings import PROJECT_ROOT, Settings
from ui import strings
from ui.render import esc

DATASETS = tuple(strings.EVAL_DATASETS)  # the committed sets with a committed baseline each
DATASET = DATASETS[0]
BASELINES = PROJECT_ROOT / "eval" / "baselines"
BASELINE = BASELINES / f"{DATASET}.json"
SHOWN = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "answer_correct",
    "citation_precision",
    "citation_recall",
    "abstention_correct",
    "false_abstention",
    "pass_rate",
)


@dataclass(frozen=True)
class EvalView:
    summary_html: str
    comparison: str  # the gate's text table, or why there is none
    report_html: str  # an iframe holding the report page, or "" without eval.report
    run_dir: Path | None


def baseline_of(dataset: str) -> Path:
    return BASELINES / f"{dataset}.json"


def collections(settings: Settings) -> dict[str, str]:
    """The knowledge base each set is run on (``eval.runner.eval_collection``, as ``rag eval``)."""
    from eval.runner import eval_collection

    return {name: eval_collection(name, settings) for name in DATASETS}


def run_bundled(settings: Settings, dataset: str = DATASET) -> EvalView:
    """``rag eval --dataset NAME`` from the UI: run, write the run folder, compare, report."""
    from eval.datasets import resolve_dataset
    from eval.runner import eval_collection, run_dataset, write_run

    if dataset not in DATASETS:
        raise ValueError(f"eval set must be one of {', '.join(DATASETS)}; got {dataset!r}")
    dataset = resolve_dataset(dataset, data_dir=settings.data_dir)
    collection = eval_collection(dataset.name, settings)
    results, summary = run_dataset(dataset, settings.with_overrides(collection=collection))
    run_dir = settings.data_dir / "eval" / f"{dataset.name}-{datetime.now():%Y%m%d-%H%M%S}"
    write_run(run_dir, results, summary)
    return view(summary, [asdict(r) for r in results], run_dir, write=True)


def latest_run(data_dir: Path) -> Path | None:
    """The newest run folder (one holding a summary.json) under ``<data_dir>/eval``."""
    root = data_dir / "eval"
    runs = [p.parent for p in root.glob("*/summary.json")] if root.is_dir() else []
    return max(runs, key=lambda p: (p.joinpath("summary.json").stat().st_mtime, p.name), default=None)


def load_run(run_dir: Path) -> EvalView:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    results_file = run_dir / "results.jsonl"
    results = (
        [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        if results_file.is_file()
        else []
    )
    return view(summary, results, run_dir, write=False)


def view(summary: dict, results: list[dict], run_dir: Path | None, *, write: bool) -> EvalView:
    from eval.gate import compare, format_comparison, load_baseline, load_tolerances

    comparison = None
    dataset = str(summary.get("dataset", "?"))
    if dataset in DATASETS and baseline_of(dataset).is_file():
        comparison = compare(summary, load_baseline(baseline_of(dataset)), load_tolerances())
        text = format_comparison(comparison, {r["id"]: r.get("question", "") for r in results if "id" in r})
    else:
        text = strings.no_baseline(dataset, DATASETS)
    return EvalView(
        summary_table(summary), text, _report(summary, results, comparison, run_dir, write), run_dir
    )


def _report(summary: dict, results: list[dict], comparison, run_dir: Path | None, write: bool) -> str:
    """The run's report page in an iframe: written now for a fresh run, read back when the run
    folder has one (``rag eval`` writes it), rendered otherwise."""
    try:
        report = importlib.import_module("eval.report")
    except ImportError:
        return ""
    saved = run_dir / "report.html" if run_dir is not None else None
    if write and run_dir is not None:
        page = report.write_report(run_dir, comparison=comparison).read_text(encoding="utf-8")
    elif saved is not None and saved.is_file():
        page = saved.read_text(encoding="utf-8")
    else:
        page = report.render_report(summary, results, comparison)
    return report_frame(page)


def report_frame(page: str) -> str:
    """A self-contained HTML page in a sandboxed iframe: its scripts run in an opaque origin, away
    from the app."""
    return f'<iframe class="eval-report" sandbox="allow-scripts" srcdoc="{esc(page)}" title="eval report"></iframe>'


def summary_table(summary: dict) -> str:
    """Metrics overall (with their bootstrap interval) and per language, as an HTML table."""
    langs = list(summary.get("by_lang", {}))
    found = summary.get("intervals") or {}
    ci = found.get("metrics", {})
    head = [strings.EVAL_METRIC, strings.EVAL_ALL, strings.eval_interval(found.get("confidence", 0.95))]
    head_html = "".join(f"<th>{esc(x)}</th>" for x in [*head, *langs])
    rows = []
    for name in SHOWN:
        values = [summary.get("metrics", {}).get(name)]
        values += [summary["by_lang"][lang].get(name) for lang in langs]
        if all(v is None for v in values):
            continue
        cells = [_number(values[0]), _interval(ci.get(name)), *(_number(v) for v in values[1:])]
        rows.append(f"<tr><th>{esc(name)}</th>{''.join(f'<td>{c}</td>' for c in cells)}</tr>")
    total = summary.get("latency", {}).get("total", {})
    run = summary.get("run", {})
    caption = strings.eval_caption(
        str(summary.get("dataset", "?")),
        summary.get("metrics", {}).get("n", "?"),
        run.get("date"),
        total.get("p50_ms"),
        total.get("p95_ms"),
    )
    return (
        f'<table class="eval-summary"><caption>{esc(caption)}</caption><thead><tr>{head_html}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _interval(bounds: list[float] | None) -> str:
    return "—" if not bounds else f'<span class="ci">[{bounds[0]:.3f}, {bounds[1]:.3f}]</span>'
