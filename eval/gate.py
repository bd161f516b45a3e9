"""Compare a run with a baseline (or another run): per-metric tolerances, a paired significance test
per metric, flipped questions, exit code.

A metric regresses when its drop is beyond its tolerance *and* significant (one-sided p below
``alpha`` in ``eval/gate.toml``): McNemar's exact test for pass/fail metrics, a paired bootstrap for
the others, both over the questions the two runs share. A baseline written before per-question
values were stored (no ``questions`` key) can only be compared point by point: there the
tolerance alone decides, as it always did.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.stats import PairedTest, StatsConfig, compact, paired_test
from rag.errors import ConfigError

DEFAULT_TOLERANCES_FILE = Path(__file__).with_name("gate.toml")
LOWER_IS_BETTER = {"false_abstention"}
BASELINE_FORMAT = 2  # 2: per-question values under "questions"; 1 (no key): aggregates only


@dataclass(frozen=True)
class Row:
    metric: str
    baseline: float | None
    now: float | None
    tolerance: float | None
    regressed: bool
    paired: PairedTest | None = None  # None: no per-question values to pair
    beyond_tolerance: bool = False

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.now is None:
            return None
        return self.now - self.baseline

    @property
    def status(self) -> str:
        if self.regressed:
            return "REGRESSED"
        if self.beyond_tolerance and self.paired is not None:
            return f"drop not significant (p={self.paired.p_value:.2f})"
        return "ok" if self.tolerance is not None else "(not gated)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "now": self.now,
            "delta": None if self.delta is None else round(self.delta, 4),
            "tolerance": self.tolerance,
            "regressed": self.regressed,
            "beyond_tolerance": self.beyond_tolerance,
            "paired": self.paired.to_dict() if self.paired else None,
            "status": self.status,
        }


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    now_failing: list[str]  # passed in the baseline, fail now
    now_passing: list[str]  # failed in the baseline, pass now
    paired_questions: int | None = None  # questions both runs scored (None: old-format baseline)
    alpha: float | None = None
    changed: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)  # qid -> metric -> [a, b]

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
            "paired_questions": self.paired_questions,
            "alpha": self.alpha,
            "changed": self.changed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        rows = []
        for r in data.get("rows", []):
            paired = r.get("paired")
            rows.append(
                Row(
                    r["metric"],
                    r.get("baseline"),
                    r.get("now"),
                    r.get("tolerance"),
                    bool(r.get("regressed")),
                    PairedTest(**(paired | {"ci": tuple(paired["ci"])})) if paired else None,
                    bool(r.get("beyond_tolerance")),
                )
            )
        return cls(
            rows,
            list(data.get("now_failing", [])),
            list(data.get("now_passing", [])),
            data.get("paired_questions"),
            data.get("alpha"),
            dict(data.get("changed", {})),
        )


def load_tolerances(path: Path | None = None) -> dict[str, float]:
    path = path or DEFAULT_TOLERANCES_FILE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tolerances", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read tolerances from {path}: {exc}") from exc
    try:
        return {str(k): float(v) for k, v in table.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: every tolerance must be a number: {exc}") from exc


def load_baseline(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"baseline not found: {path} (create it with `rag eval --update-baseline`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ConfigError(f"{path}: not a baseline (no 'metrics' object)")
    return data


def baseline_from_summary(summary: dict, questions: dict[str, dict[str, float]] | None = None) -> dict:
    """What a committed baseline keeps: the aggregates and, for paired tests, every question's
    metric values (``questions``: id -> metric -> value)."""
    keep = ("dataset", "metrics", "by_lang", "passed", "run", "faithfulness", "intervals")
    baseline = {"format": BASELINE_FORMAT} | {k: summary[k] for k in keep if k in summary}
    if questions is not None:
        baseline["questions"] = compact(questions)
    return baseline


def dumps_baseline(baseline: dict) -> str:
    """JSON with one line per question, so the committed file stays short and diffs read well."""
    questions = baseline.get("questions")
    head = json.dumps({k: v for k, v in baseline.items() if k != "questions"}, ensure_ascii=False, indent=2)
    if questions is None:
        return head + "\n"
    rows = ",\n".join(
        f"    {json.dumps(qid, ensure_ascii=False)}: {json.dumps(values, ensure_ascii=False)}"
        for qid, values in questions.items()
    )
    return head[: head.rindex("}")].rstrip() + ',\n  "questions": {\n' + rows + "\n  }\n}\n"


def compare(
    summary: dict,
    baseline: dict,
    tolerances: dict[str, float],
    *,
    questions: dict[str, dict[str, float]] | None = None,
    stats: StatsConfig | None = None,
) -> Comparison:
    """``summary`` (and its per-question ``questions``) against ``baseline``. With per-question
    values on both sides, values and tests cover the questions both scored."""
    stats = stats or StatsConfig.load()
    before_q = baseline.get("questions")
    paired_ids = sorted(set(before_q) & set(questions)) if before_q and questions else None
    rows = []
    for name in sorted(set(summary["metrics"]) | set(baseline["metrics"])):
        if name == "n":
            continue
        before, now = baseline["metrics"].get(name), summary["metrics"].get(name)
        paired = None
        if paired_ids is not None:
            pairs = [
                (before_q[q][name], questions[q][name])
                for q in paired_ids
                if name in before_q[q] and name in questions[q]
            ]
            paired = paired_test(
                [a for a, _ in pairs],
                [b for _, b in pairs],
                lower_is_better=name in LOWER_IS_BETTER,
                config=stats,
            )
            if pairs:
                before = round(sum(a for a, _ in pairs) / len(pairs), 4)
                now = round(sum(b for _, b in pairs) / len(pairs), 4)
        if before is None and now is None:  # measured in neither run (e.g. no judge, no SQuAD spans)
            continue
        rows.append(_row(name, before, now, tolerances.get(name), paired, stats.alpha))
    old, new = baseline.get("passed", {}), summary.get("passed", {})
    failing = sorted(q for q, ok in new.items() if not ok and old.get(q) is True)
    passing = sorted(q for q, ok in new.items() if ok and old.get(q) is False)
    changed = _changed(before_q, questions, paired_ids) if paired_ids is not None else {}
    return Comparison(
        rows, failing, passing, None if paired_ids is None else len(paired_ids), stats.alpha, changed
    )


def _row(
    name: str, before: float | None, now: float | None, tolerance: float | None, paired, alpha: float
) -> Row:
    if tolerance is None or before is None:
        return Row(name, before, now, tolerance, False, paired)
    if now is None:  # the metric vanished from the run
        return Row(name, before, now, tolerance, True, paired, True)
    drop = (now - before) if name in LOWER_IS_BETTER else (before - now)
    beyond = drop > tolerance + 1e-9
    significant = paired is None or paired.p_value < alpha  # unpaired (old baseline): tolerance alone
    return Row(name, before, now, tolerance, beyond and significant, paired, beyond)


def _changed(before: dict, after: dict, ids: list[str]) -> dict[str, dict[str, list[float | None]]]:
    out: dict[str, dict[str, list[float | None]]] = {}
    for qid in ids:
        a, b = before[qid], after[qid]
        diffs = {
            name: [a.get(name), b.get(name)]
            for name in sorted(set(a) | set(b))
            if a.get(name) is None or b.get(name) is None or abs(a[name] - b[name]) > 1e-9
        }
        if diffs:
            out[qid] = diffs
    return out


def format_comparison(
    comparison: Comparison,
    questions: dict[str, str] | None = None,
    *,
    changed: bool = False,
    labels: tuple[str, str] = ("baseline", "now"),
) -> str:
    """The console table; ``changed`` adds every question whose metrics differ (``--compare``)."""

    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    before, after = labels
    header = f"{'metric':<30}{before:>9}{after:>9}{'delta':>9}  {'CI of delta':<17}{'p':>7}  "
    lines = [header, "-" * (len(header) + 24)]
    for row in comparison.rows:
        delta = "—" if row.delta is None else f"{row.delta:+.3f}"
        p = row.paired
        ci = f"[{p.ci[0]:+.3f}, {p.ci[1]:+.3f}]" if p else "—"
        p_text = f"{p.p_value:.3f}" if p and p.test != "none needed" else "—"
        lines.append(
            f"{row.metric:<30}{num(row.baseline):>9}{num(row.now):>9}{delta:>9}  {ci:<17}{p_text:>7}  {row.status}"
        )
    if comparison.paired_questions is None:
        lines.append(f"\nthe {before} has no per-question values: compared point by point, without tests")
    else:
        lines.append(
            f"\npaired over {comparison.paired_questions} questions; a drop beyond tolerance regresses only when "
            f"p < {comparison.alpha} (McNemar for pass/fail metrics, paired bootstrap otherwise)"
        )
    questions = questions or {}
    titles = (
        ("now failing (passed in the baseline)", "now passing (failed in the baseline)")
        if labels == ("baseline", "now")
        else (f"pass in {before}, fail in {after}", f"fail in {before}, pass in {after}")
    )
    for title, ids in zip(titles, (comparison.now_failing, comparison.now_passing), strict=True):
        if ids:
            lines.append(f"\n{title}: {len(ids)}")
            lines += [f"  {q}  {questions.get(q, '')}" for q in ids]
    if changed and comparison.changed:
        lines.append(f"\nquestions whose metrics changed: {len(comparison.changed)}")
        for qid, diffs in comparison.changed.items():
            parts = ", ".join(f"{name} {num(a)}→{num(b)}" for name, (a, b) in diffs.items())
            lines.append(f"  {qid}  {parts}")
    lines.append(
        "\nREGRESSION: the gate fails" if comparison.regressed else "\nno regression beyond tolerances"
    )
    return "\n".join(lines)
