"""Measure the citation verifier's relatedness thresholds (``MIN_COVERAGE``, ``MIN_SIMILARITY`` in
``rag/generate/verify.py``) on the training cases, never on the eval gate.

A claim stands in for what an LLM writes: the question's content words followed by its gold
answer ("范廷颂 任为主教 1963年"). It is scored against three kinds of passage: the gold passage
that holds the answer (should be related), the other retrieved passages (often the same topic) and
passages of other questions (should not be). For each kind the share of pairs each rule accepts is
reported; the thresholds are chosen so that at least ``SUPPORT_KEPT`` of supporting pairs are
accepted while as few other-document pairs as possible are.

    .venv/bin/python -m eval.training.verify_thresholds   # writes bench/results/verify_thresholds.json
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np

from eval.normalize import contains
from eval.training.fit import CaseRows
from rag.embedding.base import Embedder
from rag.generate.evidence import Source
from rag.settings import PROJECT_ROOT
from rag.terms import coverage, question_term_sets

SUPPORT_KEPT = 0.90
COVERAGE_GRID = tuple(round(0.05 * i, 2) for i in range(2, 17))
SIMILARITY_GRID = tuple(round(0.80 + 0.01 * i, 2) for i in range(0, 16))
RESULT_FILE = PROJECT_ROOT / "bench" / "results" / "verify_thresholds.json"


def claim_of(rows: CaseRows) -> str:
    content = " ".join(rows.question.term_sets[0]) if rows.question.term_sets else rows.case.question
    return f"{content} {rows.case.answers[0]}"


def pair_scores(claim: str, passage_text: str, embedder: Embedder, idf) -> tuple[float, float]:
    source = Source.of_text(passage_text, embedder)
    terms = question_term_sets(claim)
    covered = coverage(terms, source.folded_text.__contains__, idf)
    query = embedder.embed_query(claim)
    similarity = max(float(source.passage_vector @ query), float(np.max(source.sentence_vectors @ query)))
    return covered, similarity


def measure(cases: Sequence[CaseRows], embedder: Embedder, *, per_kind: int = 600, seed: int = 7) -> dict:
    rng = random.Random(seed)
    answerable = [r for r in cases if r.case.kind == "retrieved" and r.case.answerable and r.case.answers]
    rng.shuffle(answerable)
    pools: dict[str, list[tuple[float, float]]] = {"supporting": [], "other_top5": [], "other_documents": []}
    everything = [p for r in answerable for p in r.case.passages]
    for rows in answerable:
        if min(len(v) for v in pools.values()) >= per_kind:
            break
        claim = claim_of(rows)
        idf = _idf_of(rows)
        for passage in rows.case.passages:
            holds = passage.doc_id == rows.case.gold_doc and contains(passage.text, rows.case.answers[0])
            kind = "supporting" if holds else ("other_top5" if passage.doc_id != rows.case.gold_doc else None)
            if kind and len(pools[kind]) < per_kind:
                pools[kind].append(pair_scores(claim, passage.text, embedder, idf))
        stranger = rng.choice(everything)
        if stranger.doc_id != rows.case.gold_doc and len(pools["other_documents"]) < per_kind:
            pools["other_documents"].append(pair_scores(claim, stranger.text, embedder, idf))
    return choose(pools)


def _idf_of(rows: CaseRows):
    """The IDF of the case's question terms; other terms (the claim's answer) count 1."""
    return lambda term: rows.stats.idfs.get(term, 1.0)


def choose(pools: dict[str, list[tuple[float, float]]]) -> dict:
    arrays = {k: np.array(v) for k, v in pools.items() if v}

    def accepted(kind: str, c: float, s: float) -> float:
        values = arrays[kind]
        return float(np.mean((values[:, 0] >= c) | (values[:, 1] >= s)))

    best = None
    for c in COVERAGE_GRID:
        for s in SIMILARITY_GRID:
            kept = accepted("supporting", c, s)
            if kept < SUPPORT_KEPT:
                continue
            key = (accepted("other_documents", c, s), accepted("other_top5", c, s), -c, -s)
            if best is None or key < best[0]:
                best = (key, c, s)
    c, s = (best[1], best[2]) if best else (COVERAGE_GRID[0], SIMILARITY_GRID[0])
    return {
        "min_coverage": c,
        "min_similarity": s,
        "accepted": {kind: round(accepted(kind, c, s), 3) for kind in arrays},
        "pairs": {kind: len(v) for kind, v in arrays.items()},
        "medians": {
            kind: {
                "coverage": round(float(np.median(v[:, 0])), 3),
                "similarity": round(float(np.median(v[:, 1])), 3),
            }
            for kind, v in arrays.items()
        },
        "rule": f"accept >= {SUPPORT_KEPT:.0%} of supporting pairs, then the fewest other-document pairs",
    }


def main() -> None:
    from eval.training.train import DEFAULT_LIMITS, collect_rows
    from rag.settings import load_settings

    settings = load_settings()
    rows, _, _ = collect_rows(settings, DEFAULT_LIMITS)
    from eval.training.cache import DiskCachedEmbedder
    from rag.embedding import create_embedder

    embedder = DiskCachedEmbedder(
        create_embedder(settings), settings.data_dir / "train-cache" / "vectors.npz"
    )
    result = measure(rows, embedder)
    embedder.save()
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
