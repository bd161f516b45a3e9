"""``rag eval``: run a dataset, write results, compare with a baseline, gate."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from pathlib import Path

from eval.datasets import resolve_dataset
from eval.gate import baseline_from_summary, compare, format_comparison, load_baseline, load_tolerances
from eval.runner import run_dataset, write_run
from rag.settings import PROJECT_ROOT, Settings, load_settings

BASELINES_DIR = PROJECT_ROOT / "eval" / "baselines"
SHOWN = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "answer_correct",
    "token_f1",
    "citation_precision",
    "citation_recall",
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


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.eval_config:
        settings = load_settings(args.eval_config)
    dataset = resolve_dataset(args.dataset, data_dir=settings.data_dir)
    collection = "eval-" + re.sub(r"[^a-z0-9-]", "-", dataset.name.lower())
    settings = settings.with_overrides(collection=collection, retrieval_mode=args.mode, top_k=args.k)
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1; got {args.limit}")
    results, summary = run_dataset(dataset, settings, limit=args.limit)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or settings.data_dir / "eval" / f"{dataset.name}-{stamp}"
    write_run(out, results, summary)
    print(format_summary(summary))
    print(f"\nresults: {out / 'results.jsonl'}\nsummary: {out / 'summary.json'}")
    baseline_path = args.baseline or BASELINES_DIR / f"{dataset.name}.json"
    if args.update_baseline:
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline_path.write_text(
            json.dumps(baseline_from_summary(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"baseline written: {baseline_path}")
        return 0
    if args.baseline:
        comparison = compare(summary, load_baseline(args.baseline), load_tolerances(args.tolerances))
        print("\n" + format_comparison(comparison, {r.id: r.question for r in results}))
        return 1 if comparison.regressed else 0
    return 0


def format_summary(summary: dict) -> str:
    langs = list(summary["by_lang"])
    header = f"{'metric':<26}{'all':>8}" + "".join(f"{lang:>9}" for lang in langs)
    lines = [f"dataset {summary['dataset']}: {summary['metrics']['n']} questions", header, "-" * len(header)]
    for name in SHOWN:
        values = [summary["metrics"].get(name)] + [summary["by_lang"][lang].get(name) for lang in langs]
        if all(v is None for v in values):
            continue
        cells = "".join(f"{'—' if v is None else f'{v:.3f}':>9}" for v in values[1:])
        first = values[0]
        lines.append(f"{name:<26}{'—' if first is None else f'{first:.3f}':>8}{cells}")
    lines.append(f"{'faithfulness':<26}{summary['faithfulness']}")
    total = summary["latency"].get("total", {})
    lines.append(f"{'latency total':<26}p50 {total.get('p50_ms')} ms, p95 {total.get('p95_ms')} ms")
    return "\n".join(lines)
