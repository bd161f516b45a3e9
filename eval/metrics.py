"""Metrics as pure functions. Inputs are plain values so each can be tested on its own."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from eval.normalize import contains, normalize, squad_tokens


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((i for i, hit in enumerate(relevant, start=1) if hit), None)


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    rank = first_relevant_rank(relevant[:k])
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(relevant: Sequence[bool], k: int = 10, *, total_relevant: int | None = None) -> float:
    """Binary-relevance nDCG: every relevant item gains 1, discounted by log2(rank + 1). The ideal
    ranking holds ``total_relevant`` items when the number is known (retrieval sets with qrels),
    otherwise the relevant items that were retrieved."""
    gains = [1.0 / math.log2(i + 1) for i, hit in enumerate(relevant[:k], start=1) if hit]
    found = sum(1 for hit in relevant if hit)
    ideal_hits = min(found if total_relevant is None else max(total_relevant, found), k)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_hits + 1))
    return sum(gains) / ideal if ideal else 0.0


def passage_is_relevant(
    passage_text: str, passage_doc: str, *, gold_doc: str | None, evidence: Sequence[str]
) -> bool:
    """A passage supports the question when it holds any evidence string (or, with no evidence
    strings given, when it comes from the gold document)."""
    if evidence:
        return any(contains(passage_text, e) for e in evidence)
    return gold_doc is not None and passage_doc == gold_doc


def answer_correct(answer: str, groups: Sequence[Sequence[str]]) -> bool:
    """Every group of alternatives must be matched by the answer (empty groups: vacuously false)."""
    return bool(groups) and all(any(contains(answer, alt) for alt in group) for group in groups)


def answer_span(highlighted: Sequence[str], groups: Sequence[Sequence[str]]) -> float:
    """1 when the highlighted answer spans (what the answer singles out inside its quotes) match
    every group of gold alternatives, 0 otherwise (nothing highlighted included)."""
    return float(bool(highlighted) and answer_correct(" ".join(highlighted), groups))


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return 1.0 if any(normalize(prediction) == normalize(g) for g in golds) else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best SQuAD token F1 over the gold answers (characters for Chinese)."""
    pred = squad_tokens(prediction)
    best = 0.0
    for gold in golds:
        truth = squad_tokens(gold)
        common = sum((Counter(pred) & Counter(truth)).values())
        if common:
            precision, recall = common / len(pred), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def citation_precision(cited_relevant: Sequence[bool]) -> float | None:
    """Share of citations whose passage holds evidence; None when the answer cites nothing."""
    return sum(cited_relevant) / len(cited_relevant) if cited_relevant else None


def citation_recall(cited_relevant: Sequence[bool]) -> float:
    """1 when at least one citation is correct (averaged over answerable questions)."""
    return 1.0 if any(cited_relevant) else 0.0


def abstention_correct(abstained: bool, answerable: bool) -> bool:
    return abstained != answerable


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 100]); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within [0, 100]; got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
