"""Run a dataset through the assistant: per-question results and a summary."""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.datasets import Dataset, EvalItem
from eval.judge import FaithfulnessJudge, Judgement
from eval.stats import StatsConfig, intervals, per_question
from rag.filters import Filter, make_filter
from rag.pipeline import Assistant
from rag.settings import PROJECT_ROOT, Settings
from rag.types import Answer, Citation, Passage

RETRIEVAL_DEPTH = 10  # passages retrieved for hit@k / MRR / nDCG; the answer uses the first top_k
FAITHFULNESS_NOTE = "not measured: no LLM judge configured"


@dataclass
class EvalResult:
    id: str
    question: str
    lang: str
    answerable: bool
    doc: str | None
    tags: list[str]
    retrieved: list[dict[str, Any]]
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    metrics: dict[str, float | None]
    timings: dict[str, float]
    passed: bool
    failures: list[str] = field(default_factory=list)
    # Citation verification (when the generator ran it): support, notes, citations before it.
    support: float | None = None
    answerability: float | None = None  # the evidence model's, when it ran
    verification_notes: list[str] = field(default_factory=list)
    unverified_citations: list[dict[str, Any]] | None = None
    # LLM judge verdicts per answer sentence (None: no judge, or nothing to judge).
    judged: list[dict[str, Any]] | None = None
    judge_error: str | None = None


def evaluate_item(
    item: EvalItem,
    passages: list[Passage],
    answer: Answer,
    timings: dict[str, float],
    *,
    judgement: Judgement | None = None,
) -> EvalResult:
    def relevant(text: str, doc_id: str) -> bool:
        return m.passage_is_relevant(text, doc_id, gold_doc=item.doc, evidence=item.evidence)

    ranked = [relevant(p.text, p.doc_id) for p in passages]
    cited = [relevant(c.passage, c.doc_id) for c in answer.citations]
    unverified = answer.unverified_citations
    unverified_cited = None if unverified is None else [relevant(c.passage, c.doc_id) for c in unverified]
    scores = _answer_scores(item, ranked, cited, answer)
    if unverified_cited is not None:
        scores["citation_precision_unverified"] = m.citation_precision(unverified_cited)
    if answer.support is not None:
        scores["support"] = answer.support
    if judgement is not None and judgement.score is not None:
        scores["faithfulness"] = judgement.score
    scores["abstention_correct"] = float(m.abstention_correct(answer.abstained, item.answerable))
    failures = _failures(item, scores, answer)
    return EvalResult(
        id=item.id,
        question=item.question,
        lang=item.lang,
        answerable=item.answerable,
        doc=item.doc,
        tags=list(item.tags),
        retrieved=[
            {"chunk_id": p.chunk_id, "doc_id": p.doc_id, "score": p.score, "relevant": r}
            for p, r in zip(passages, ranked, strict=True)
        ],
        answer=answer.text,
        abstained=answer.abstained,
        citations=_citation_rows(answer.citations, cited),
        metrics=scores,
        timings=timings,
        passed=not failures,
        failures=failures,
        support=answer.support,
        answerability=answer.answerability,
        verification_notes=list(answer.verification_notes),
        unverified_citations=None
        if unverified is None or unverified_cited is None
        else _citation_rows(unverified, unverified_cited),
        judged=judgement.to_dicts() if judgement else None,
        judge_error=judgement.error if judgement else None,
    )


def _answer_scores(
    item: EvalItem, ranked: list[bool], cited: list[bool], answer: Answer
) -> dict[str, float | None]:
    """Retrieval and answer metrics: ranking and correctness for an answerable item, SQuAD's span
    scores when it has SQuAD answers, and citation precision."""
    scores: dict[str, float | None] = {}
    if item.answerable:
        scores |= {f"hit@{k}": m.hit_at_k(ranked, k) for k in (1, 3, 5, 10)}
        scores |= {"mrr@10": m.reciprocal_rank(ranked, 10), "ndcg@10": m.ndcg_at_k(ranked, 10)}
        scores["answer_correct"] = (
            float(m.answer_correct(answer.text, item.answer)) if not answer.abstained else 0.0
        )
        scores["citation_recall"] = m.citation_recall(cited)
        scores["false_abstention"] = float(answer.abstained)
        scores["coverage"] = float(not answer.abstained)
        if not answer.abstained:
            scores["selective_accuracy"] = scores["answer_correct"]
            highlighted = [h for c in answer.citations for h in c.highlighted]
            scores["answer_span"] = m.answer_span(highlighted, item.answer)
    if item.squad_answers:
        span = " ".join(c.span for c in answer.citations) if not answer.abstained else ""
        scores["exact_match"] = m.exact_match(span, item.squad_answers)
        scores["token_f1"] = m.token_f1(span, item.squad_answers)
    scores["citation_precision"] = m.citation_precision(cited)
    return scores


def evaluate_retrieval(item: EvalItem, passages: list[Passage], timings: dict[str, float]) -> EvalResult:
    """A retrieval-only item (BEIR): documents ranked by their best passage, relevant when listed in
    ``item.relevant_docs``; hit@k, MRR@10 and nDCG@10 (ideal over every relevant document)."""
    ranked_docs = list(dict.fromkeys(p.doc_id for p in passages))[:RETRIEVAL_DEPTH]
    relevant = [doc in item.relevant_docs for doc in ranked_docs]
    scores: dict[str, float | None] = {f"hit@{k}": m.hit_at_k(relevant, k) for k in (1, 3, 5, 10)}
    scores["mrr@10"] = m.reciprocal_rank(relevant, 10)
    scores["ndcg@10"] = m.ndcg_at_k(relevant, 10, total_relevant=len(item.relevant_docs))
    failures = [] if scores["hit@5"] else ["no relevant document in top 5"]
    first = {}
    for p in passages:
        first.setdefault(p.doc_id, p)
    return EvalResult(
        id=item.id,
        question=item.question,
        lang=item.lang,
        answerable=True,
        doc=item.doc,
        tags=list(item.tags),
        retrieved=[
            {"chunk_id": first[d].chunk_id, "doc_id": d, "score": first[d].score, "relevant": r}
            for d, r in zip(ranked_docs, relevant, strict=True)
        ],
        answer="",
        abstained=False,
        citations=[],
        metrics=scores,
        timings=timings,
        passed=not failures,
        failures=failures,
    )


def _citation_rows(citations: list[Citation], relevant: list[bool]) -> list[dict[str, Any]]:
    return [
        {
            "n": c.n,
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "span": c.span,
            "highlights": [c.passage[a:b] for a, b in c.highlights],
            "doc_start": c.doc_start,
            "doc_end": c.doc_end,
            "relevant": r,
        }
        for c, r in zip(citations, relevant, strict=True)
    ]


def _failures(item: EvalItem, scores: dict[str, float | None], answer: Answer) -> list[str]:
    if not item.answerable:
        return [] if answer.abstained else ["answered an unanswerable question"]
    failed = []
    if answer.abstained:
        failed.append("abstained")
    elif not scores.get("answer_correct"):
        failed.append("answer incorrect")
    if not answer.abstained and not scores.get("citation_recall"):
        failed.append("no citation holds the evidence")
    if not scores.get("hit@5"):
        failed.append("evidence not retrieved in top 5")
    return failed


def eval_collection(dataset: str, settings: Settings) -> str:
    """The knowledge base an eval of ``dataset`` uses: ``eval-<dataset>``, plus the chunking when it
    differs from the default (``-c200``, ``-o0``), so each chunking keeps its own reusable index."""
    defaults = {f.name: f.default for f in fields(Settings)}
    name = "eval-" + re.sub(r"[^a-z0-9-]", "-", dataset.lower())
    if settings.chunk_size != defaults["chunk_size"]:
        name += f"-c{settings.chunk_size}"
    if settings.chunk_overlap != defaults["chunk_overlap"]:
        name += f"-o{settings.chunk_overlap}"
    return name


def run_dataset(
    dataset: Dataset,
    settings: Settings,
    *,
    limit: int | None = None,
    assistant: Assistant | None = None,
    judge: FaithfulnessJudge | None = None,
    stats: StatsConfig | None = None,
) -> tuple[list[EvalResult], dict]:
    """Ingest the dataset's corpus (unchanged files are skipped) and score every question.
    ``assistant`` lets a caller reuse an open knowledge base (the grid does); ``stats`` sets the
    confidence intervals (default: ``[statistics]`` of ``eval/gate.toml``)."""
    from tqdm import tqdm

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1; got {limit}")
    assistant = assistant or Assistant.from_settings(settings)
    # A dataset's own corpus is the whole collection: documents no longer in it are pruned.
    ingest = assistant.ingest(dataset.corpus or list(settings.corpus), prune=dataset.corpus is not None)
    items = dataset.items[:limit] if limit else dataset.items
    results = []
    for item in tqdm(items, desc=f"Eval {dataset.name}", unit="q", disable=not settings.progress):
        if dataset.retrieval_only:
            results.append(_retrieve_only(assistant, item))
            continue
        answer = assistant.ask(item.question, depth=RETRIEVAL_DEPTH, where=item_filter(item))
        judgement = judge.judge(answer) if judge else None
        results.append(
            evaluate_item(item, list(answer.passages), answer, answer.timings, judgement=judgement)
        )
    summary = summarize(results, judge=judge.name if judge else None, stats=stats)
    summary |= {
        "dataset": dataset.name,
        "source": dataset.source,
        "run": run_info(settings, assistant, judge=judge.name if judge else None),
        "index": {"documents": len(assistant.kb.documents()), "ingest_seconds": round(ingest.seconds, 2)},
    }
    return results, summary


def item_filter(item: EvalItem) -> Filter | None:
    """The item's document-facts filter (None when it has none)."""
    built = make_filter(where=[item.filter]) if item.filter else None
    return None if built is None or built.empty else built


def _retrieve_only(assistant: Assistant, item: EvalItem) -> EvalResult:
    """Retrieval sets: no answer is generated. A few passages per document are fetched so that
    ``RETRIEVAL_DEPTH`` distinct documents can be ranked."""
    started = time.perf_counter()
    found = assistant.search(item.question, k=RETRIEVAL_DEPTH * 3, where=item_filter(item))
    elapsed = time.perf_counter() - started
    return evaluate_retrieval(item, found.passages, found.timings | {"retrieve": elapsed, "total": elapsed})


METRIC_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr@10",
    "ndcg@10",
    "answer_correct",
    "exact_match",
    "token_f1",
    "citation_precision",
    "citation_recall",
    "citation_precision_unverified",  # over the citations before verification (when it ran)
    "support",  # the verifier's share of cited sentences supported (when it ran)
    "faithfulness",  # the LLM judge's share of answer sentences supported (when configured)
    "abstention_correct",
    "false_abstention",
    "coverage",  # share of answerable questions answered
    "selective_accuracy",  # answer_correct among the answerable questions answered
    "answer_span",  # the highlighted spans match the gold answer (answered answerable questions)
)


def summarize(
    results: list[EvalResult], *, judge: str | None = None, stats: StatsConfig | None = None
) -> dict:
    def block(rows: list[EvalResult]) -> dict[str, Any]:
        values = {k: m.mean([r.metrics.get(k) for r in rows]) for k in METRIC_KEYS}
        unanswerable = [r for r in rows if not r.answerable]
        values["unanswerable_abstention"] = m.mean([float(r.abstained) for r in unanswerable])
        values["pass_rate"] = m.mean([float(r.passed) for r in rows])
        values["n"] = len(rows)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values.items()}

    stages = sorted({stage for r in results for stage in r.timings})
    latency = {
        stage: {
            "p50_ms": _ms(m.percentile([r.timings[stage] for r in results if stage in r.timings], 50)),
            "p95_ms": _ms(m.percentile([r.timings[stage] for r in results if stage in r.timings], 95)),
        }
        for stage in stages
    }
    return {
        "metrics": block(results),
        "by_lang": {
            lang: block([r for r in results if r.lang == lang]) for lang in sorted({r.lang for r in results})
        },
        "faithfulness": _faithfulness(results, judge),
        "latency": latency,
        "passed": {r.id: r.passed for r in results},
        # Bootstrap confidence intervals of every metric (eval/stats.py), computed from the same
        # per-question values the summary averages.
        "intervals": intervals(
            per_question(results), {r.id: r.lang for r in results}, stats or StatsConfig.load()
        ),
    }


def _faithfulness(results: list[EvalResult], judge: str | None) -> float | str:
    """The judge's mean over judged answers, or why there is no number."""
    if judge is None:
        return FAITHFULNESS_NOTE
    score = m.mean([r.metrics.get("faithfulness") for r in results])
    if score is not None:
        return round(score, 4)
    errors = [r.judge_error for r in results if r.judge_error]
    if errors:
        return f"not measured: the LLM judge {judge} gave no usable verdict ({errors[0]})"
    return f"not measured: no answer had sentences for the LLM judge {judge} to check"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def run_info(settings: Settings, assistant: Assistant, *, judge: str | None = None) -> dict[str, Any]:
    config = {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in asdict(settings).items()
        if k not in ("data_dir", "corpus", "extra", "progress")
    }
    prompts = getattr(assistant.generator, "prompts", None)
    evidence = getattr(assistant, "evidence", None)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config,
        "abstain_below": None if evidence is None else round(evidence.abstain_below, 4),
        "versions": {
            "code": _git_revision(),
            "embedding_model": assistant.kb.embedder.model_id,
            "generator": assistant.generator.name,
            "prompt": getattr(prompts, "version", None),
            "judge": judge,
        },
    }


def _git_revision() -> str | None:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return f"{rev}{'-dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return None


def write_run(out_dir: Path, results: list[EvalResult], summary: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            row = asdict(result) | {"run": summary["run"]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
