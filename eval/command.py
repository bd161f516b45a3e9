"""``rag eval``: run a dataset, write results and an HTML report, compare with a baseline, gate;
or, with ``--grid``, run a matrix of settings and compare them."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from eval.datasets import Dataset, resolve_dataset
from eval.gate import baseline_from_summary, compare, format_comparison, load_baseline, load_tolerances
from eval.grid import (
    DEFAULT_GRID_FILE,
    GridSpec,
    format_grid,
    grid_to_dict,
    load_grid,
    run_grid,
    write_grid,
)
from eval.judge import FaithfulnessJudge, judge_from_settings
from eval.report import COMPARISON_FILE, write_report
from eval.runner import eval_collection, run_dataset, write_run
from rag.settings import PROJECT_ROOT, Settings, load_settings

BASELINES_DIR = PROJECT_ROOT / "eval" / "baselines"
SHOWN = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "answer_correct",
    "selective_accuracy",
    "coverage",
    "answer_span",
    "exact_match",
    "token_f1",
    "citation_precision",
    "citation_precision_unverified",
    "citation_recall",
    "support",
    "abstention_correct",
    "false_abstention",
    "unanswerable_abstention",
    "pass_rate",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="sichuan", help="sichuan, cmrc, drcd, cmrc-en, or a file")
    parser.add_argument("--config", dest="eval_config", type=Path, help="rag.toml settings for this run")
    parser.add_argument("--out", type=Path, help="output folder (default: <data dir>/eval/<dataset>-<time>)")
    parser.add_argument("--baseline", type=Path, help="compare with this baseline and gate on it")
    parser.add_argument("--update-baseline", action="store_true", help="write the run as the new baseline")
    parser.add_argument("--tolerances", type=Path, help="gate tolerances (default: eval/gate.toml)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--mode", choices=("hybrid", "dense", "keyword"))
    parser.add_argument("--k", type=int, help="passages given to the generator")
    parser.add_argument(
        "--grid",
        nargs="?",
        const=DEFAULT_GRID_FILE,
        type=Path,
        metavar="TOML",
        help="run every combination of a settings matrix (default matrix: eval/grid.toml)",
    )
    parser.add_argument("--sort-by", help="with --grid: the metric to sort the table by")


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.eval_config:
        settings = load_settings(args.eval_config)
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1; got {args.limit}")
    if args.grid is None and args.sort_by:
        raise ValueError("--sort-by only applies with --grid")
    if args.grid is not None and (args.baseline or args.update_baseline):
        raise ValueError("--grid cannot be combined with --baseline or --update-baseline")
    spec = load_grid(args.grid) if args.grid is not None else None  # a bad grid fails before any work
    if spec is not None and args.sort_by:
        spec = GridSpec(axes=spec.axes, sort_by=args.sort_by)
    dataset = resolve_dataset(args.dataset, data_dir=settings.data_dir)
    settings = settings.with_overrides(retrieval_mode=args.mode, top_k=args.k)
    settings = settings.with_overrides(collection=eval_collection(dataset.name, settings))
    judge = judge_from_settings(settings)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if spec is not None:
        out = args.out or settings.data_dir / "eval" / f"{dataset.name}-grid-{stamp}"
        return _grid(dataset, settings, spec, out=out, limit=args.limit, judge=judge)
    results, summary = run_dataset(dataset, settings, limit=args.limit, judge=judge)
    out = args.out or settings.data_dir / "eval" / f"{dataset.name}-{stamp}"
    write_run(out, results, summary)
    print(format_summary(summary))
    status, comparison = 0, None
    if args.update_baseline:
        baseline_path = args.baseline or BASELINES_DIR / f"{dataset.name}.json"
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline_path.write_text(
            json.dumps(baseline_from_summary(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"\nbaseline written: {baseline_path}")
    elif args.baseline:
        baseline = load_baseline(args.baseline)
        gate = compare(summary, baseline, load_tolerances(args.tolerances))
        print("\n" + format_comparison(gate, {r.id: r.question for r in results}))
        if args.limit:
            print(
                f"note: with --limit {args.limit} the metrics cover {len(results)} of "
                f"{len(baseline.get('passed', {})) or 'all'} baseline questions; flipped questions are exact"
            )
        comparison = gate.to_dict() | {
            "baseline": {
                "file": str(args.baseline),
                "date": baseline.get("run", {}).get("date"),
                "code": baseline.get("run", {}).get("versions", {}).get("code"),
            }
        }
        (out / COMPARISON_FILE).write_text(
            json.dumps(comparison, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        status = 1 if gate.regressed else 0
    report = write_report(out, comparison)
    print(f"\nresults: {out / 'results.jsonl'}\nsummary: {out / 'summary.json'}\nreport:  {report}")
    return status


def _grid(
    dataset: Dataset,
    settings: Settings,
    spec: GridSpec,
    *,
    out: Path,
    limit: int | None,
    judge: FaithfulnessJudge | None,
) -> int:
    combos = spec.combinations()
    print(f"grid on {dataset.name}: {len(combos)} configurations ({', '.join(spec.axes)})")
    runs = run_grid(dataset, settings, spec, out_dir=out, limit=limit, judge=judge)
    print("\n" + format_grid(runs, spec))
    json_path, html_path = write_grid(out, grid_to_dict(dataset, spec, runs, limit=limit))
    print(f"\ngrid: {json_path}\nchart: {html_path}")
    return 0


def format_summary(summary: dict) -> str:
    langs = list(summary["by_lang"])
    header = f"{'metric':<30}{'all':>8}" + "".join(f"{lang:>9}" for lang in langs)
    lines = [f"dataset {summary['dataset']}: {summary['metrics']['n']} questions", header, "-" * len(header)]
    for name in SHOWN:
        values = [summary["metrics"].get(name)] + [summary["by_lang"][lang].get(name) for lang in langs]
        if all(v is None for v in values):
            continue
        cells = "".join(f"{'—' if v is None else f'{v:.3f}':>9}" for v in values[1:])
        first = values[0]
        lines.append(f"{name:<30}{'—' if first is None else f'{first:.3f}':>8}{cells}")
    faith = summary["faithfulness"]
    judge = summary.get("run", {}).get("versions", {}).get("judge")
    faith_text = f"{faith:.3f} (LLM judge {judge})" if isinstance(faith, float | int) else faith
    lines.append(f"{'faithfulness':<30}{faith_text}")
    threshold = summary.get("run", {}).get("abstain_below")
    if threshold is not None:
        lines.append(f"{'abstain_below':<30}{threshold} (answerability under which the assistant refuses)")
    total = summary["latency"].get("total", {})
    lines.append(f"{'latency total':<30}p50 {total.get('p50_ms')} ms, p95 {total.get('p95_ms')} ms")
    return "\n".join(lines)
