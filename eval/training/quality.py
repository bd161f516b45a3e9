"""How good the evidence model is on held-out folds, and the thresholds chosen there."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eval.training.fit import CaseRows, Fitted, refusal_threshold

QUOTE_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
KEPT_ANSWER_SENTENCES = 0.95  # cite_below keeps this share of held-out answer sentences


def sentence_accuracy(cases: Sequence[CaseRows], probabilities: Sequence[np.ndarray]) -> float | None:
    """Share of answerable cases (with a labelled answer sentence) whose most probable sentence
    holds the answer."""
    hits = [
        float(r.labels[int(np.argmax(p))] == 1)
        for r, p in zip(cases, probabilities, strict=True)
        if r.case.answerable and len(p) and np.nansum(r.labels) > 0
    ]
    return round(float(np.mean(hits)), 4) if hits else None


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(set(labels.tolist())) < 2:
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def false_abstention(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float | None:
    positives = scores[labels == 1]
    return round(float(np.mean(positives < threshold)), 4) if len(positives) else None


def expected_calibration_error(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (scores >= low) & (scores < high if high < 1 else scores <= high)
        if inside.any():
            total += inside.mean() * abs(scores[inside].mean() - labels[inside].mean())
    return round(float(total), 4)


def choose_also_quote(cases: Sequence[CaseRows], probabilities: Sequence[np.ndarray]) -> tuple[float, dict]:
    """The probability from which a further sentence is quoted beside the best one: the grid value
    that maximises (answer quoted) × (share of the quoted sentences that hold it) over held-out
    answerable cases, so a further quote must earn its place in the reader's time."""
    scored = {}
    for tau in QUOTE_GRID:
        values = []
        for r, p in zip(cases, probabilities, strict=True):
            if not (r.case.answerable and len(p) and np.nansum(r.labels) > 0):
                continue
            order = np.argsort(-p, kind="stable")
            chosen = [order[0], *[i for i in order[1:3] if p[i] >= tau]]
            holding = [r.labels[i] == 1 for i in chosen]
            values.append(float(any(holding)) * (sum(holding) / len(holding)))
        scored[tau] = round(float(np.mean(values)), 4) if values else 0.0
    best = max(scored, key=lambda t: (scored[t], t))
    return best, scored


def _passage_holds(rows: CaseRows, index: int) -> bool:
    from eval.normalize import contains

    passage = rows.case.passages[rows.candidates[index].passage_index]
    return passage.doc_id == rows.case.gold_doc and any(contains(passage.text, a) for a in rows.case.answers)


def quality_report(cases: Sequence[CaseRows], fitted: Fitted) -> dict:
    """Held-out quality overall, per dataset and per case kind; the chosen thresholds."""
    labels = np.array([float(r.case.answerable) for r in cases])
    scores = fitted.answerable_oof
    abstain_below = refusal_threshold(scores, labels, 0.90)
    at_95 = refusal_threshold(scores, labels, 0.95)
    also_quote, quote_grid = choose_also_quote(cases, fitted.sentence_oof)
    cite_below = answer_sentence_floor(cases, fitted.sentence_oof)

    def block(selected: np.ndarray) -> dict:
        chosen = [r for r, s in zip(cases, selected, strict=True) if s]
        probabilities = [p for p, s in zip(fitted.sentence_oof, selected, strict=True) if s]
        answered = selected & (scores >= abstain_below) & (labels == 1)
        return {
            "cases": int(selected.sum()),
            "answerable": int((labels[selected] == 1).sum()),
            "answer_sentence_accuracy": sentence_accuracy(chosen, probabilities),
            "answerability_roc_auc": roc_auc(scores[selected], labels[selected]),
            "false_abstention_at_90_refusal": false_abstention(
                scores[selected], labels[selected], abstain_below
            ),
            "false_abstention_at_95_refusal": false_abstention(scores[selected], labels[selected], at_95),
            "refusal_at_threshold": _refusal(scores[selected], labels[selected], abstain_below),
            "selective_sentence_accuracy": sentence_accuracy(
                [r for r, a in zip(cases, answered, strict=True) if a],
                [p for p, a in zip(fitted.sentence_oof, answered, strict=True) if a],
            ),
        }

    datasets = sorted({r.case.dataset for r in cases})
    kinds = sorted({r.case.kind for r in cases})
    every = np.ones(len(cases), dtype=bool)
    return {
        "overall": block(every)
        | {
            "answerability_brier": round(float(np.mean((scores - labels) ** 2)), 4),
            "answerability_ece": expected_calibration_error(scores, labels),
        },
        "by_dataset": {d: block(np.array([r.case.dataset == d for r in cases])) for d in datasets},
        "by_case_kind": {
            k: block(np.array([r.case.kind == k or (r.case.kind == "retrieved") for r in cases]))
            for k in kinds
        },
        "thresholds": {
            "abstain_below": round(abstain_below, 4),
            "abstain_below_at_95_refusal": round(at_95, 4),
            "also_quote_above": also_quote,
            "cite_below": cite_below,
            "also_quote_grid": quote_grid,
        },
    }


def answer_sentence_floor(cases: Sequence[CaseRows], probabilities: Sequence[np.ndarray]) -> float:
    """The sentence probability above which ``KEPT_ANSWER_SENTENCES`` of the held-out answer
    sentences lie: a cited sentence rated lower is taken as not about the question."""
    positives = np.concatenate(
        [p[r.labels == 1] for r, p in zip(cases, probabilities, strict=True) if r.case.answerable]
    )
    if not len(positives):
        return 0.0
    return round(float(np.quantile(positives, 1.0 - KEPT_ANSWER_SENTENCES)), 4)


def _refusal(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float | None:
    negatives = scores[labels == 0]
    return round(float(np.mean(negatives < threshold)), 4) if len(negatives) else None
