"""Compare a run with a committed baseline: per-metric tolerances, flipped questions, exit code."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

DEFAULT_TOLERANCES_FILE = Path(__file__).with_name("gate.toml")
LOWER_IS_BETTER = {"false_abstention"}


@dataclass(frozen=True)
class Row:
    metric: str
    baseline: float | None
    now: float | None
    tolerance: float | None
    regressed: bool

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.now is None:
            return None
        return self.now - self.baseline

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "now": self.now,
            "delta": None if self.delta is None else round(self.delta, 4),
            "tolerance": self.tolerance,
            "regressed": self.regressed,
        }


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    now_failing: list[str]  # passed in the baseline, fail now
    now_passing: list[str]  # failed in the baseline, pass now

    @property
    def regressed(self) -> bool:
        return any(r.regressed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (what ``comparison.json`` and the HTML report hold)."""
        return {
            "regressed": self.regressed,
            "rows": [r.to_dict() for r in self.rows],
            "now_failing": list(self.now_failing),
            "now_passing": list(self.now_passing),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        rows = [
            Row(r["metric"], r.get("baseline"), r.get("now"), r.get("tolerance"), bool(r.get("regressed")))
            for r in data.get("rows", [])
        ]
        return cls(rows, list(data.get("now_failing", [])), list(data.get("now_passing", [])))


def load_tolerances(path: Path | None = None) -> dict[str, float]:
    path = path or DEFAULT_TOLERANCES_FILE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tolerances", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read tolerances from {path}: {exc}") from exc
    return {str(k): float(v) for k, v in table.items()}


def load_baseline(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"baseline not found: {path} (create it with `rag eval --update-baseline`)")
    return json.loads(path.read_text(encoding="utf-8"))


def baseline_from_summary(summary: dict) -> dict:
    keep = ("dataset", "metrics", "by_lang", "passed", "run", "faithfulness")
    return {k: summary[k] for k in keep if k in summary}


def compare(summary: dict, baseline: dict, tolerances: dict[str, float]) -> Comparison:
    rows = []
    metrics = sorted(set(summary["metrics"]) | set(baseline["metrics"]))
    for name in metrics:
        if name == "n":
            continue
        before, now = baseline["metrics"].get(name), summary["metrics"].get(name)
        if before is None and now is None:  # measured in neither run (e.g. no judge, no SQuAD spans)
            continue
        tolerance = tolerances.get(name)
        regressed = False
        if tolerance is not None and before is not None:
            drop = (now - before) if name in LOWER_IS_BETTER else (before - now) if now is not None else 1.0
            regressed = now is None or drop > tolerance + 1e-9
        rows.append(Row(name, before, now, tolerance, regressed))
    old, new = baseline.get("passed", {}), summary.get("passed", {})
    failing = sorted(q for q, ok in new.items() if not ok and old.get(q) is True)
    passing = sorted(q for q, ok in new.items() if ok and old.get(q) is False)
    return Comparison(rows, failing, passing)


def format_comparison(comparison: Comparison, questions: dict[str, str] | None = None) -> str:
    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    lines = [f"{'metric':<30}{'baseline':>10}{'now':>10}{'delta':>10}  ", "-" * 64]
    for row in comparison.rows:
        delta = "—" if row.delta is None else f"{row.delta:+.3f}"
        mark = "REGRESSED" if row.regressed else ("" if row.tolerance is not None else "(not gated)")
        lines.append(f"{row.metric:<30}{num(row.baseline):>10}{num(row.now):>10}{delta:>10}  {mark}")
    questions = questions or {}
    for title, ids in (
        ("now failing (passed in the baseline)", comparison.now_failing),
        ("now passing (failed in the baseline)", comparison.now_passing),
    ):
        if ids:
            lines.append(f"\n{title}: {len(ids)}")
            lines += [f"  {q}  {questions.get(q, '')}" for q in ids]
    lines.append(
        "\nREGRESSION: the gate fails" if comparison.regressed else "\nno regression beyond tolerances"
    )
    return "\n".join(lines)
