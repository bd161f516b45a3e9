"""``rag train`` / ``make train``: build the training cases, fit the evidence model, write its
parameters (``rag/generate/evidence_model.json``) and its held-out quality
(``bench/results/evidence_model.json``). Deterministic: same data, same code, same file.

The eval gate (``eval/datasets/sichuan.jsonl``) is never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.datasets import SHARED_DATASETS, resolve_dataset
from eval.runner import eval_collection
from eval.training.cache import DiskCachedEmbedder
from eval.training.examples import article_titles, build_cases, paragraph_titles
from eval.training.fit import FOLDS, REFUSAL_TARGET, CaseRows, case_rows, fit
from eval.training.quality import quality_report
from rag.embedding import create_embedder
from rag.generate.answer_model import PARAMS_FILE, EvidenceParams
from rag.pipeline import open_knowledge_base
from rag.retrieve import Retriever
from rag.settings import PROJECT_ROOT, Settings

REPORT_FILE = PROJECT_ROOT / "bench" / "results" / "evidence_model.json"
# Questions used per dataset (evenly spread; None: all). DRCD is cut to keep training to minutes.
DEFAULT_LIMITS = {"cmrc": None, "drcd": 1500, "cmrc-en": None}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=PARAMS_FILE, help="where the parameters go")
    parser.add_argument("--report", type=Path, default=REPORT_FILE, help="held-out quality (JSON)")
    parser.add_argument("--drcd-limit", type=int, default=DEFAULT_LIMITS["drcd"], help="DRCD questions used")
    parser.add_argument("--cmrc-limit", type=int, default=None, help="CMRC questions used (default: all)")


def run_train_command(args: argparse.Namespace, settings: Settings) -> int:
    limits = {"cmrc": args.cmrc_limit, "drcd": args.drcd_limit, "cmrc-en": None}
    for name, value in limits.items():
        if value is not None and value < 10:
            raise ValueError(f"--{name}-limit must be at least 10; got {value}")
    report = train(settings, limits=limits, out=args.out, report_path=args.report)
    overall = report["quality"]["overall"]
    print(
        f"evidence model written: {args.out}\n"
        f"held-out ({FOLDS} folds): answer-sentence accuracy {overall['answer_sentence_accuracy']}, "
        f"answerability ROC-AUC {overall['answerability_roc_auc']}, false abstention "
        f"{overall['false_abstention_at_90_refusal']} at 90% / {overall['false_abstention_at_95_refusal']} "
        f"at 95% refusal of unanswerables\nabstain_below {report['quality']['thresholds']['abstain_below']}"
        f"\nreport: {args.report}"
    )
    return 0


def collect_rows(settings: Settings, limits: dict) -> tuple[list[CaseRows], dict, str]:
    """The cases of every dataset with their features; the counts per dataset; the model id."""
    settings = replace(settings, generator="extractive", retrieval_mode="hybrid")
    sources = [
        SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json",
        SHARED_DATASETS / "drcd" / "DRCD_dev.json",
    ]
    titles = sorted({t for path in sources for t in article_titles(path)})
    doc_titles = {k: v for path in sources for k, v in paragraph_titles(path).items()}
    model = create_embedder(settings)
    rows, counts = [], {}
    for name, limit in limits.items():
        dataset = resolve_dataset(name, data_dir=settings.data_dir)
        corpus_name = "cmrc" if name == "cmrc-en" else name  # the English questions share CMRC's corpus
        local = settings.with_overrides(collection=eval_collection(corpus_name, settings))
        embedder = DiskCachedEmbedder(model, settings.data_dir / "train-cache" / f"{local.collection}.npz")
        kb = open_knowledge_base(local, embedder=embedder)
        kb.ingest(dataset.corpus or [])
        retriever = Retriever(kb, mode="hybrid", candidates=local.candidates, rrf_k=local.rrf_k)

        def search(question: str, k: int, retriever=retriever) -> list:
            return retriever.retrieve(question, k=k).passages

        cases = build_cases(
            search,
            kb.keyword.idf,
            dataset,
            k=settings.top_k,
            limit=limit,
            titles=titles,
            doc_titles=doc_titles,
        )
        before = len(rows)
        for case in _progress(cases, f"features {name}", settings.progress):
            rows.append(case_rows(case, embedder=embedder, stats=kb.keyword))
        counts[name] = len(rows) - before
        embedder.save()
    return rows, counts, model.model_id


def train(settings: Settings, *, limits: dict, out: Path, report_path: Path) -> dict:
    started = time.perf_counter()
    rows, counts, model_id = collect_rows(settings, limits)
    report = fit_and_write(rows, out=out, report_path=report_path, counts=counts, limits=limits)
    report["info"]["embedding_model"] = model_id
    report["seconds"] = round(time.perf_counter() - started, 1)
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


def fit_and_write(rows: list[CaseRows], *, out: Path, report_path: Path, counts: dict, limits: dict) -> dict:
    """Fit on ``rows``, write the parameters to ``out`` and the held-out quality to ``report_path``."""
    fitted = fit(rows)
    quality = quality_report(rows, fitted)
    thresholds = quality["thresholds"]
    info = {
        "trained_on": {name: {"cases": n, "questions_limit": limits.get(name)} for name, n in counts.items()},
        "case_kinds": {k: sum(r.case.kind == k for r in rows) for k in sorted({r.case.kind for r in rows})},
        "folds": FOLDS,
        "abstain_below": f"refuses {REFUSAL_TARGET:.0%} of held-out unanswerable cases",
        "cite_below": "keeps 95% of held-out answer sentences",
        "also_quote_above": "maximises answer quoted x share of quoted sentences holding it (held-out)",
        "command": "make train",
    }
    params = EvidenceParams(
        sentence=fitted.sentence,
        answerable=fitted.answerable,
        abstain_below=thresholds["abstain_below"],
        also_quote_above=thresholds["also_quote_above"],
        cite_below=thresholds["cite_below"],
        info=info,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    params.save(out)
    report = {
        "quality": quality,
        "info": info,
        "weights": {
            "sentence": dict(
                zip(fitted.sentence.features, np.round(fitted.sentence.coef, 3).tolist(), strict=True)
            ),
            "answerable": dict(
                zip(fitted.answerable.features, np.round(fitted.answerable.coef, 3).tolist(), strict=True)
            ),
        },
        "params_sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


def _progress(items, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="case", disable=not enabled)
