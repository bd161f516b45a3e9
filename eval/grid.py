"""``rag eval --grid``: run a dataset over a small matrix of settings and compare the key metrics.

Settings that change the index (chunk size, overlap) get their own collection (``eval-sichuan-c200``),
kept between runs; the other axes reuse the open knowledge base. Writes ``grid.json``, a
self-contained ``grid.html`` (table and SVG bars), and one run folder with a report per combination.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from eval import svg
from eval.datasets import Dataset
from eval.judge import FaithfulnessJudge
from eval.report import write_report
from eval.report_assets import STYLE
from eval.runner import eval_collection, run_dataset, write_run
from rag.errors import ConfigError
from rag.settings import Settings

DEFAULT_GRID_FILE = Path(__file__).with_name("grid.toml")
AXES: dict[str, type] = {
    "chunk_size": int,
    "chunk_overlap": int,
    "top_k": int,
    "retrieval_mode": str,
    "candidates": int,
    "rrf_k": int,
}
INDEX_AXES = ("chunk_size", "chunk_overlap")
QUALITY_METRICS = (
    "hit@5",
    "mrr@10",
    "answer_correct",
    "citation_precision",
    "citation_recall",
    "abstention_correct",
)
LATENCY_METRIC = "latency_p50_ms"
GRID_METRICS = (*QUALITY_METRICS, LATENCY_METRIC)
LOWER_IS_BETTER = {LATENCY_METRIC, "false_abstention"}
_SHORT = {"chunk_size": "c", "chunk_overlap": "o", "top_k": "k", "candidates": "cand", "rrf_k": "rrf"}


@dataclass(frozen=True)
class GridSpec:
    """Axis name -> values, in file order; every combination is one run."""

    axes: dict[str, list[Any]]
    sort_by: str = "answer_correct"

    def __post_init__(self) -> None:
        if not self.axes:
            raise ConfigError(f"the grid needs at least one axis ({', '.join(AXES)})")
        for name, values in self.axes.items():
            if name not in AXES:
                raise ConfigError(f"unknown grid axis {name!r}; choose from {', '.join(AXES)}")
            if not isinstance(values, list) or not values:
                raise ConfigError(f"grid axis {name} needs a non-empty list of values; got {values!r}")
            kind = AXES[name]
            bad = [v for v in values if not isinstance(v, kind) or isinstance(v, bool)]
            if bad:
                raise ConfigError(f"grid axis {name} takes {kind.__name__} values; got {bad[0]!r}")
            if len(set(values)) != len(values):
                raise ConfigError(f"grid axis {name} repeats a value: {values!r}")
        if self.sort_by not in GRID_METRICS:
            raise ConfigError(f"sort_by must be one of {', '.join(GRID_METRICS)}; got {self.sort_by!r}")

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination, index axes varying slowest (so each index is opened once)."""
        names = sorted(self.axes, key=lambda n: (n not in INDEX_AXES, list(self.axes).index(n)))
        return [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(self.axes[n] for n in names))
        ]


def parse_grid(data: dict[str, Any], *, where: str = "grid") -> GridSpec:
    """``[grid]`` axis lists and an optional top-level ``sort_by``."""
    unknown = sorted(set(data) - {"grid", "sort_by"})
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)} (expected [grid] and sort_by)")
    axes = data.get("grid")
    if not isinstance(axes, dict):
        raise ConfigError(f"{where}: needs a [grid] table of axis = [values]")
    return GridSpec(axes=dict(axes), sort_by=str(data.get("sort_by", "answer_correct")))


def load_grid(path: Path | None = None) -> GridSpec:
    path = path or DEFAULT_GRID_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the grid from {path}: {exc}") from exc
    return parse_grid(data, where=str(path))


def label(params: dict[str, Any]) -> str:
    """``{"chunk_size": 200, "top_k": 3, "retrieval_mode": "hybrid"}`` -> ``c200 k3 hybrid``."""
    return " ".join(str(v) if k == "retrieval_mode" else f"{_SHORT[k]}{v}" for k, v in params.items())


@dataclass
class GridRun:
    label: str
    params: dict[str, Any]
    collection: str
    metrics: dict[str, float | None]
    report: str  # relative to the grid's folder


def grid_metrics(summary: dict) -> dict[str, float | None]:
    values: dict[str, float | None] = {k: summary["metrics"].get(k) for k in QUALITY_METRICS}
    values[LATENCY_METRIC] = summary.get("latency", {}).get("total", {}).get("p50_ms")
    return values


def run_grid(
    dataset: Dataset,
    settings: Settings,
    spec: GridSpec,
    *,
    out_dir: Path,
    limit: int | None = None,
    judge: FaithfulnessJudge | None = None,
) -> list[GridRun]:
    from rag.pipeline import Assistant, open_knowledge_base

    combos = spec.combinations()
    planned = [settings.with_overrides(**params) for params in combos]  # validate all before running
    runs: list[GridRun] = []
    kb, kb_key = None, None
    for number, (params, combo) in enumerate(zip(combos, planned, strict=True), start=1):
        combo = combo.with_overrides(collection=eval_collection(dataset.name, combo))
        key = (combo.collection, combo.chunk_size, combo.chunk_overlap)
        if key != kb_key:
            kb, kb_key = open_knowledge_base(combo), key
        name = label(params)
        print(f"[{number}/{len(combos)}] {name} (collection {combo.collection})", flush=True)
        results, summary = run_dataset(
            dataset, combo, limit=limit, assistant=Assistant(combo, kb=kb), judge=judge
        )
        relative = Path("runs") / name.replace(" ", "-")
        write_run(out_dir / relative, results, summary)
        write_report(out_dir / relative)
        run = GridRun(
            name, params, combo.collection, grid_metrics(summary), (relative / "report.html").as_posix()
        )
        runs.append(run)
        print("    " + "  ".join(f"{k} {_cell(v)}" for k, v in run.metrics.items()), flush=True)
    return runs


def sort_runs(runs: list[GridRun], metric: str) -> list[GridRun]:
    """Best first by ``metric``, ties broken by the other metrics in GRID_METRICS order; runs
    without a value for ``metric`` last."""

    def key(run: GridRun) -> list[tuple[bool, float]]:
        order = [metric] + [m for m in GRID_METRICS if m != metric]
        return [_rank_value(run.metrics.get(m), m) for m in order]

    return sorted(runs, key=key)


def _rank_value(value: float | None, metric: str) -> tuple[bool, float]:
    if value is None:
        return (True, 0.0)
    return (False, value if metric in LOWER_IS_BETTER else -value)


def _cell(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value > 1.5 else f"{value:.3f}"


def format_grid(runs: list[GridRun], spec: GridSpec) -> str:
    axes = list(spec.axes)
    widths = [max(len(a), *(len(str(r.params[a])) for r in runs)) + 2 for a in axes]
    head = "".join(f"{a:<{w}}" for a, w in zip(axes, widths, strict=True))
    head += "".join(f"{m:>{max(len(m), 7) + 2}}" for m in GRID_METRICS)
    lines = [
        f"sorted by {spec.sort_by} ({'lower' if spec.sort_by in LOWER_IS_BETTER else 'higher'} is better)"
    ]
    lines += [head, "-" * len(head)]
    for run in sort_runs(runs, spec.sort_by):
        row = "".join(f"{run.params[a]!s:<{w}}" for a, w in zip(axes, widths, strict=True))
        row += "".join(f"{_cell(run.metrics.get(m)):>{max(len(m), 7) + 2}}" for m in GRID_METRICS)
        lines.append(row)
    return "\n".join(lines)


def grid_to_dict(
    dataset: Dataset, spec: GridSpec, runs: list[GridRun], *, limit: int | None
) -> dict[str, Any]:
    return {
        "dataset": dataset.name,
        "source": dataset.source,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "limit": limit,
        "grid": spec.axes,
        "sort_by": spec.sort_by,
        "runs": [
            {
                "label": r.label,
                "params": r.params,
                "collection": r.collection,
                "metrics": r.metrics,
                "report": r.report,
            }
            for r in sort_runs(runs, spec.sort_by)
        ],
    }


def render_grid_html(data: dict[str, Any]) -> str:
    """The grid as one page: the sorted table and SVG bars (quality metrics, then latency)."""
    runs = data["runs"]
    labels = [r["label"] for r in runs]
    quality = svg.grouped_bars(
        labels,
        {m: [r["metrics"].get(m) for r in runs] for m in QUALITY_METRICS},
        title=f"Grid on {data['dataset']}: quality metrics per configuration",
        y_max=1.0,
        width=max(760, 90 * len(runs)),
        height=380,
        rotate_labels=True,
    )
    latency = svg.grouped_bars(
        labels,
        {"latency p50 (ms)": [r["metrics"].get(LATENCY_METRIC) for r in runs]},
        title="Latency p50 per configuration (ms)",
        width=max(440, 60 * len(runs)),
        height=300,
        rotate_labels=True,
    )
    axes = list(data["grid"])
    head = "".join(f"<th>{escape(a)}</th>" for a in axes) + "".join(
        f"<th class=num>{escape(m)}</th>" for m in GRID_METRICS
    )
    rows = "".join(
        f'<tr><td class=num>{i}</td><td><a href="{escape(r["report"])}">{escape(r["label"])}</a></td>'
        + "".join(f"<td>{escape(str(r['params'][a]))}</td>" for a in axes)
        + "".join(f"<td class=num>{escape(_cell(r['metrics'].get(m)))}</td>" for m in GRID_METRICS)
        + "</tr>"
        for i, r in enumerate(runs, start=1)
    )
    limit = f", first {data['limit']} questions" if data.get("limit") else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Eval grid: {escape(data['dataset'])}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>Eval grid: {escape(data['dataset'])}</h1>"
        f"<p class=meta>{len(runs)} configurations{escape(limit)} · {escape(data['date'])} · sorted by "
        f"<code>{escape(data['sort_by'])}</code></p>"
        f"<table><thead><tr><th>#</th><th>configuration</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<h2>Charts</h2><div class=charts><figure class=wide>{quality}</figure><figure>{latency}</figure></div>"
        "</main></body></html>\n"
    )


def write_grid(out_dir: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "grid.json", out_dir / "grid.html"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_grid_html(data), encoding="utf-8")
    return json_path, html_path
