"""How sure a metric is: bootstrap confidence intervals over questions, and paired tests between
two runs on the same questions (McNemar's exact test for pass/fail metrics, a paired bootstrap
for the others). Every resampling uses a fixed seed, so the same runs give the same numbers.

On 75 questions one flipped answer moves a metric by 0.013-0.04: a point comparison cannot tell a
regression from noise, so the gate asks both "is the drop beyond tolerance?" and "is it
significant?" (``eval/gate.py``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError

DEFAULT_CONFIG_FILE = Path(__file__).with_name("gate.toml")
_CHUNK = 256  # resamples drawn at once (bounds memory on large sets)


@dataclass(frozen=True)
class StatsConfig:
    """``[statistics]`` in ``eval/gate.toml``."""

    confidence: float = 0.95  # level of every interval
    alpha: float = 0.05  # a drop is significant when its one-sided p-value is below this
    resamples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"confidence must be within [0.5, 1); got {self.confidence}")
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"alpha must be within (0, 0.5); got {self.alpha}")
        if self.resamples < 100:
            raise ConfigError(f"resamples must be at least 100; got {self.resamples}")

    @classmethod
    def load(cls, path: Path | None = None) -> StatsConfig:
        path = path or DEFAULT_CONFIG_FILE
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("statistics", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read [statistics] from {path}: {exc}") from exc
        unknown = sorted(set(table) - {"confidence", "alpha", "resamples", "seed"})
        if unknown:
            raise ConfigError(f"{path}: unknown [statistics] keys: {', '.join(unknown)}")
        for key, value in table.items():
            kinds = (int,) if key in ("resamples", "seed") else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds):
                wanted = "an integer" if kinds == (int,) else "a number"
                raise ConfigError(f"{path}: [statistics] {key} must be {wanted}; got {value!r}")
        return cls(**{k: float(v) if k in ("confidence", "alpha") else v for k, v in table.items()})


def _resampled_means(values: np.ndarray, config: StatsConfig) -> np.ndarray:
    """The mean of ``config.resamples`` resamples (with replacement) of ``values``."""
    rng = np.random.default_rng(config.seed)
    n, means = len(values), []
    for start in range(0, config.resamples, _CHUNK):
        size = min(_CHUNK, config.resamples - start)
        means.append(values[rng.integers(0, n, size=(size, n))].mean(axis=1))
    return np.concatenate(means)


def bootstrap_ci(values: Sequence[float], config: StatsConfig | None = None) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None without values."""
    if not values:
        return None
    config = config or StatsConfig()
    data = np.asarray(values, dtype=float)
    if np.all(data == data[0]):
        return (round(float(data[0]), 4), round(float(data[0]), 4))
    tail = (1 - config.confidence) / 2
    low, high = np.quantile(_resampled_means(data, config), [tail, 1 - tail])
    return (round(float(low), 4), round(float(high), 4))


@dataclass(frozen=True)
class PairedTest:
    """A metric compared question by question (the questions both runs scored)."""

    test: str  # "mcnemar" (pass/fail metrics) or "paired bootstrap"
    n: int  # paired questions
    delta: float  # mean of (after - before)
    ci: tuple[float, float]  # interval of the delta
    p_value: float  # one-sided: how likely a change at least this much worse is by chance
    worse: int  # questions on which the metric got worse
    better: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci"] = list(self.ci)
        return data


def paired_test(
    before: Sequence[float],
    after: Sequence[float],
    *,
    lower_is_better: bool = False,
    config: StatsConfig | None = None,
) -> PairedTest | None:
    """Is ``after`` worse than ``before``? Values are paired by position; None without pairs."""
    if len(before) != len(after):
        raise ValueError(f"paired values differ in length: {len(before)} and {len(after)}")
    if not before:
        return None
    config = config or StatsConfig()
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    diff = b - a
    gain = -diff if lower_is_better else diff  # > 0: better
    worse, better = int(np.sum(gain < 0)), int(np.sum(gain > 0))
    if worse == better == 0:
        return PairedTest("none needed", len(a), 0.0, (0.0, 0.0), 1.0, 0, 0)
    tail = (1 - config.confidence) / 2
    means = _resampled_means(diff, config)
    low, high = np.quantile(means, [tail, 1 - tail])
    if _binary(a) and _binary(b):
        test, p_value = "mcnemar", mcnemar_p(worse, better)
    else:
        gains = -means if lower_is_better else means
        test, p_value = "paired bootstrap", float((np.sum(gains >= 0) + 1) / (len(gains) + 1))
    ci = (round(float(low), 4), round(float(high), 4))
    return PairedTest(test, len(a), round(float(diff.mean()), 4), ci, round(p_value, 4), worse, better)


def mcnemar_p(worse: int, better: int) -> float:
    """Exact one-sided McNemar: P(at least ``worse`` of the discordant pairs went the bad way)."""
    n = worse + better
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(worse, n + 1)) / 2**n


def _binary(values: np.ndarray) -> bool:
    return bool(np.all((values == 0) | (values == 1)))


def question_values(row: Any) -> dict[str, float]:
    """Every metric one question contributes to the summary, from an ``EvalResult`` or a row of
    ``results.jsonl``: its per-question metrics plus ``pass_rate`` and, for an unanswerable
    question, ``unanswerable_abstention``. Whatever metrics the runner records are included."""
    get = row.get if isinstance(row, Mapping) else lambda key, default=None: getattr(row, key, default)
    values = {k: float(v) for k, v in (get("metrics") or {}).items() if isinstance(v, int | float)}
    values["pass_rate"] = float(bool(get("passed")))
    if not get("answerable", True):
        values["unanswerable_abstention"] = float(bool(get("abstained")))
    return values


def per_question(rows: Iterable[Any]) -> dict[str, dict[str, float]]:
    """question id -> :func:`question_values`."""
    out = {}
    for row in rows:
        qid = row["id"] if isinstance(row, Mapping) else row.id
        out[qid] = question_values(row)
    return out


def intervals(
    values: Mapping[str, Mapping[str, float]], langs: Mapping[str, str], config: StatsConfig | None = None
) -> dict[str, Any]:
    """Bootstrap intervals of every metric, over all questions and per language (what
    ``summary.json`` holds under ``intervals``)."""

    def block(ids: list[str]) -> dict[str, list[float]]:
        names = sorted({name for qid in ids for name in values[qid]})
        out = {}
        for name in names:
            ci = bootstrap_ci([values[q][name] for q in ids if name in values[q]], config)
            if ci is not None:
                out[name] = list(ci)
        return out

    config = config or StatsConfig()
    ids = list(values)
    return {
        "confidence": config.confidence,
        "resamples": config.resamples,
        "seed": config.seed,
        "metrics": block(ids),
        "by_lang": {
            lang: block([q for q in ids if langs.get(q) == lang]) for lang in sorted(set(langs.values()))
        },
    }


def compact(values: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float | int]]:
    """Per-question values made small for a committed baseline (0/1 as integers, 4 decimals)."""

    def small(v: float) -> float | int:
        return int(v) if v in (0.0, 1.0) else round(v, 4)

    return {qid: {name: small(v) for name, v in sorted(row.items())} for qid, row in values.items()}
