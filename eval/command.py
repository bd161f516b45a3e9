"""``rag eval``: run a dataset, write results and an HTML report, compare with a baseline, gate;
with ``--grid``, run a matrix of settings; with ``--compare``, diff two runs question by question;
with ``--repeat``, run several times and report the spread; ``rag eval generate`` drafts a test set."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.datasets import Dataset, resolve_dataset
from eval.gate import (
    baseline_from_summary,
    compare,
    dumps_baseline,
    format_comparison,
    load_baseline,
    load_tolerances,
)
from eval.grid import (
    DEFAULT_GRID_FILE,
    GridSpec,
    format_grid,
    grid_to_dict,
    load_grid,
    run_grid,
    write_grid,
)
from eval.items import LANGS
from eval.judge import FaithfulnessJudge, judge_from_settings
from eval.report import COMPARISON_FILE, REPORT_FILE, render_report, write_report
from eval.runner import METRIC_KEYS, EvalResult, eval_collection, run_dataset, write_run
from eval.runs import format_spread, load_run, run_repeated
from eval.stats import StatsConfig, per_question
from rag.errors import ConfigError
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


GENERATE_OPTIONS = ("n", "lang", "unanswerable", "seed")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``rag eval`` to the CLI (the composition root calls this)."""
    command = sub.add_parser("eval", help="run an eval dataset; gate against a baseline")
    add_arguments(command)
    command.set_defaults(run=run_eval_command)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("generate",),
        help="generate: draft a test set from a knowledge base with the configured LLM",
    )
    parser.add_argument(
        "--dataset",
        default="sichuan",
        help="sichuan, sichuan-dev, archive, cmrc, drcd, cmrc-en, FILE.jsonl, FILE.json (SQuAD), "
        "xquad:QUESTIONS.json,CONTEXTS.json, beir:FOLDER[@SPLIT]",
    )
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
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("RUN_A", "RUN_B"),
        help="diff two run folders (or a baseline file and a run) question by question, with paired tests",
    )
    parser.add_argument(
        "--repeat", type=int, help="run N times (nondeterministic LLM generators) and report the spread"
    )
    generate = parser.add_argument_group("rag eval generate")
    generate.add_argument(
        "--collection", default=argparse.SUPPRESS, help="the knowledge base to draft questions from"
    )
    generate.add_argument("--n", type=int, help="questions to draft (default 50)")
    generate.add_argument("--lang", help="zh-Hans, zh-Hant, en or a comma list, used in turn (default: all)")
    generate.add_argument(
        "--unanswerable", type=float, help="share of near-miss unanswerable questions (0.2)"
    )
    generate.add_argument("--seed", type=int, help="passage sampling seed (default 0)")


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.eval_config:
        settings = load_settings(args.eval_config)
    _check_options(args)
    if args.action == "generate":
        return _generate(args, settings)
    stats = StatsConfig.load(args.tolerances)
    if args.compare:
        return _compare(args, stats)
    spec = load_grid(args.grid) if args.grid is not None else None  # a bad grid fails before any work
    if spec is not None and args.sort_by:
        spec = GridSpec(axes=spec.axes, sort_by=args.sort_by)
    dataset = resolve_dataset(args.dataset, data_dir=settings.data_dir)
    for note in dataset.notes:
        print(f"note: {note}")
    settings = settings.with_overrides(retrieval_mode=args.mode, top_k=args.k)
    settings = settings.with_overrides(collection=eval_collection(dataset.name, settings))
    judge = judge_from_settings(settings)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if spec is not None:
        out = args.out or settings.data_dir / "eval" / f"{dataset.name}-grid-{stamp}"
        return _grid(dataset, settings, spec, out=out, limit=args.limit, judge=judge)
    out = args.out or settings.data_dir / "eval" / f"{dataset.name}-{stamp}"
    if args.repeat:
        results, summary = run_repeated(
            dataset, settings, repeats=args.repeat, out=out, limit=args.limit, judge=judge, stats=stats
        )
    else:
        results, summary = run_dataset(dataset, settings, limit=args.limit, judge=judge, stats=stats)
    write_run(out, results, summary)
    print(format_summary(summary))
    if "repeat" in summary:
        print("\n" + format_spread(summary["repeat"], SHOWN))
    status, comparison = _against_baseline(args, dataset, results, summary, out=out, stats=stats)
    report = write_report(out, comparison)
    print(f"\nresults: {out / 'results.jsonl'}\nsummary: {out / 'summary.json'}\nreport:  {report}")
    return status


def _against_baseline(
    args: argparse.Namespace,
    dataset: Dataset,
    results: list[EvalResult],
    summary: dict[str, Any],
    *,
    out: Path,
    stats: StatsConfig,
) -> tuple[int, dict[str, Any] | None]:
    """``--update-baseline`` writes the run as the baseline; ``--baseline`` gates the run against
    one (status 1 when a metric regressed) and writes the comparison beside the results."""
    status, comparison = 0, None
    questions = per_question(results)
    if args.update_baseline:
        baseline_path = args.baseline or BASELINES_DIR / f"{dataset.name}.json"
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline_path.write_text(dumps_baseline(baseline_from_summary(summary, questions)), encoding="utf-8")
        print(f"\nbaseline written: {baseline_path} ({len(questions)} questions with per-question values)")
    elif args.baseline:
        baseline = load_baseline(args.baseline)
        gate = compare(summary, baseline, load_tolerances(args.tolerances), questions=questions, stats=stats)
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
    return status, comparison


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
    found = summary.get("intervals", {})
    level = f"{round(100 * found.get('confidence', 0.95))}% CI"
    header = f"{'metric':<30}{'all':>8}  {level:<16}" + "".join(f"{lang:>9}" for lang in langs)
    lines = [f"dataset {summary['dataset']}: {summary['metrics']['n']} questions", header, "-" * len(header)]
    known = {*SHOWN, *METRIC_KEYS, "n"}
    newer = [k for k in summary["metrics"] if k not in known]  # metrics the runner learnt since
    for name in (*SHOWN, *newer):
        values = [summary["metrics"].get(name)] + [summary["by_lang"][lang].get(name) for lang in langs]
        if all(v is None for v in values):
            continue
        cells = "".join(f"{'—' if v is None else f'{v:.3f}':>9}" for v in values[1:])
        first = values[0]
        ci = found.get("metrics", {}).get(name)
        ci_text = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"
        lines.append(f"{name:<30}{'—' if first is None else f'{first:.3f}':>8}  {ci_text:<16}{cells}")
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


def _check_options(args: argparse.Namespace) -> None:
    """Options that do not go together fail before any work."""
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1; got {args.limit}")
    if args.grid is None and args.sort_by:
        raise ValueError("--sort-by only applies with --grid")
    if args.grid is not None and (args.baseline or args.update_baseline):
        raise ValueError("--grid cannot be combined with --baseline or --update-baseline")
    if args.repeat is not None and (args.repeat < 2 or args.grid is not None):
        raise ValueError(f"--repeat needs 2 or more runs and no --grid; got {args.repeat}")
    if args.compare and (args.grid is not None or args.baseline or args.update_baseline or args.repeat):
        raise ValueError("--compare reads two finished runs: it takes no --grid, --baseline or --repeat")
    given = [f"--{name}" for name in GENERATE_OPTIONS if getattr(args, name) is not None]
    if args.action != "generate" and given:
        raise ValueError(f"{', '.join(given)} only apply to `rag eval generate`")
    if args.action == "generate" and (args.compare or args.grid is not None or args.baseline or args.repeat):
        raise ValueError("`rag eval generate` takes no --compare, --grid, --baseline or --repeat")


def _compare(args: argparse.Namespace, stats: StatsConfig) -> int:
    """``--compare RUN_A RUN_B``: B against A, question by question, with the gate's statistics."""
    first, second = (load_run(path) for path in args.compare)
    for run in (first, second):
        if run.questions is None:
            raise ConfigError(
                f"{run.label} has no per-question values (a baseline written before they were stored): "
                "compare two run folders, or rewrite the baseline with --update-baseline"
            )
    shared = set(first.questions or {}) & set(second.questions or {})
    if not shared:
        raise ConfigError(f"{first.label} and {second.label} share no question ids")
    datasets = {run.summary.get("dataset") for run in (first, second)}
    print(f"A: {first.label}\nB: {second.label}")
    if len(datasets) > 1:
        print(f"note: different datasets ({', '.join(sorted(map(str, datasets)))}); {len(shared)} shared ids")
    gate = compare(
        second.summary,
        first.as_baseline(),
        load_tolerances(args.tolerances),
        questions=second.questions,
        stats=stats,
    )
    print("\n" + format_comparison(gate, first.texts | second.texts, changed=True, labels=("A", "B")))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        data = gate.to_dict() | {
            "baseline": {"file": first.label, "date": first.summary.get("run", {}).get("date")}
        }
        (args.out / COMPARISON_FILE).write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if second.rows:
            page = render_report(second.summary, second.rows, data)
            (args.out / REPORT_FILE).write_text(page, encoding="utf-8")
        print(f"\ncomparison: {args.out / COMPARISON_FILE}")
    return 1 if gate.regressed else 0


def _generate(args: argparse.Namespace, settings: Settings) -> int:
    """``rag eval generate``: a draft test set from the knowledge base, for a person to review."""
    from tqdm import tqdm

    from eval.generate import GenerateOptions, chat_model_from_settings, draft_testset, write_draft
    from rag.pipeline import open_knowledge_base

    langs = tuple(x.strip() for x in args.lang.split(",") if x.strip()) if args.lang else LANGS
    options = GenerateOptions(
        n=50 if args.n is None else args.n,
        langs=langs,
        unanswerable=0.2 if args.unanswerable is None else args.unanswerable,
        seed=args.seed or 0,
    )
    model, name = chat_model_from_settings(settings)  # refuses before anything is opened
    kb = open_knowledge_base(settings)
    with tqdm(total=options.n, desc="Drafting", unit="q", disable=not settings.progress) as bar:
        draft = draft_testset(kb, model, options, name=name, progress=lambda _: bar.update(1))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or settings.data_dir / "eval" / "generated" / f"{settings.collection}-{stamp}.jsonl"
    write_draft(draft, out)
    answerable = sum(1 for item in draft.items if item["answerable"])
    print(
        f"draft written: {out}\n{len(draft.items)} questions ({answerable} answerable, "
        f"{len(draft.items) - answerable} near-miss unanswerable) from {settings.collection} by {name}; "
        f"{len(draft.rejected)} drafts rejected"
    )
    for reason in draft.rejected[:10]:
        print(f"  rejected {reason}")
    print(
        'Review every line before using it (each is marked "review": "draft"): check the question '
        "stands on its own, the evidence holds the answer, and the unanswerable ones really are; then "
        "`rag eval --dataset FILE`."
    )
    return 0 if draft.items else 1
