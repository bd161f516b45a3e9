"""Scale benchmark: the knowledge base at 1k, 10k and 100k passages, embedded and against a
Chroma server. Run on demand (the 100k size takes a while on 2 cores: run it once):

    .venv/bin/python bench/scale.py                          # 1k and 10k, embedded and server
    .venv/bin/python bench/scale.py --sizes 100000           # adds 100k to the results file
    .venv/bin/python bench/scale.py --part keyword --sizes 10000,100000

Corpus and stand-in embedder: see bench/scale_corpus.py (CMRC 2018 trial + DRCD dev paragraphs
cut into passages, plus deterministic variations). Every (size, mode) runs in its own process,
so its peak memory (ru_maxrss) is its own. Measured:

* ``keyword``: the keyword index alone — add every passage (tokenised once per distinct sentence:
  jieba's time is reported apart), compile, save, file size, load, query latency p50/p95;
* ``store``: ``rag ingest`` of the documents through the real pipeline (load, clean, chunk,
  tokenise, Chroma writes) with the STAND-IN embedder, against the stand-in's own encode time
  on the same texts, and the real builtin model's encode throughput on a sample, from which the
  ingest overhead beyond encoding is projected for the real model; retrieval latency p50/p95 per
  mode (keyword, dense, hybrid; the question's vector is computed before timing); re-ingest of
  the unchanged corpus; disk size; peak memory. ``server`` starts its own ``chroma run``;
* ``profile`` (after a store run): the dense search taken apart — an unfiltered Chroma query
  against the script-filtered ones the retriever adds (the slowest stage).

Results go to bench/results/scale.json (entries keyed by part, mode and size, so runs add up).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # this checkout's rag/, not an install's
import scale_corpus as corpus  # noqa: E402
from _common import REPO, RESULTS_DIR, machine_info, now_iso  # noqa: E402

OUT = RESULTS_DIR / "scale.json"
WORK = REPO / ".rag" / "bench" / "scale"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {"p50_ms": round(pick(0.5) * 1000, 2), "p95_ms": round(pick(0.95) * 1000, 2), "n": len(samples)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def folder_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 2**20, 1)


class SentenceCachedTerms:
    """rag.terms, with each distinct sentence tokenised once (passages share sentences)."""

    def __init__(self) -> None:
        from rag import terms

        self.terms, self.cache, self.seconds = terms, {}, 0.0
        self.query_term_sets, self.coverage = terms.query_term_sets, terms.coverage

    def tokenize(self, text: str) -> list[str]:
        out: list[str] = []
        for sentence in corpus._SENTENCE.findall(text):
            tokens = self.cache.get(sentence)
            if tokens is None:
                started = time.perf_counter()
                tokens = self.cache[sentence] = self.terms.tokenize(sentence)
                self.seconds += time.perf_counter() - started
            out.extend(tokens)
        return out


def keyword_class(source: str | None):
    """vectorstore.keyword.KeywordIndex, or the one in another file (``--keyword-impl``, e.g. an
    earlier version from ``git show REV:vectorstore/keyword.py``) for a before/after comparison."""
    if not source:
        from vectorstore.keyword import KeywordIndex

        return KeywordIndex
    import importlib.util

    spec = importlib.util.spec_from_file_location("keyword_impl", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules["keyword_impl"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.KeywordIndex


def keyword_part(size: int, queries: list[str], source: str | None = None) -> dict[str, Any]:
    KeywordIndex = keyword_class(source)  # noqa: N806

    texts = corpus.passages(size)
    terms = SentenceCachedTerms()
    with tempfile.TemporaryDirectory(prefix="scale-kw-") as tmp:
        path = Path(tmp) / "kw.npz"
        index = KeywordIndex(path, terms=terms)
        started = time.perf_counter()
        for i, text in enumerate(texts):
            index.add(f"c{i}", f"d{i // 20}", text)
        added = time.perf_counter() - started
        started = time.perf_counter()
        index.search("四川", k=5)
        compiled = time.perf_counter() - started
        started = time.perf_counter()
        index.save()
        saved = time.perf_counter() - started
        started = time.perf_counter()
        loaded = KeywordIndex(path, terms=terms)
        loaded.search("四川", k=5)
        load_s = time.perf_counter() - started
        latencies, filtered = [], []
        wanted = {f"d{i}" for i in range(0, size // 20, 7)}
        for question in queries:
            started = time.perf_counter()
            loaded.search(question, k=30)
            latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            loaded.search(question, k=30, doc_ids=wanted)
            filtered.append(time.perf_counter() - started)
        one_more = time.perf_counter()
        loaded.add("extra", "dx", texts[0])
        loaded.search("四川", k=5)
        update_s = time.perf_counter() - one_more
        return {
            "passages": size,
            "tokenise_s (jieba, distinct sentences)": round(terms.seconds, 2),
            "add_s (excluding jieba)": round(added - terms.seconds, 2),
            "compile_s": round(compiled, 2),
            "save_s": round(saved, 2),
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "load_and_compile_s": round(load_s, 2),
            "add_one_and_recompile_s": round(update_s, 2),
            "query": percentiles(latencies),
            "query_in_1_of_7_documents": percentiles(filtered),
            "peak_rss_mb": peak_rss_mb(),
        }


def real_encode_rate(texts: list[str]) -> float:
    """Chunks per second of the builtin model (ONNX int8) on a sample, as ``rag ingest`` batches them."""
    from rag.embedding import create_embedder
    from rag.settings import Settings

    embedder = create_embedder(Settings(progress=False))
    embedder.embed_passages(texts[:16])
    started = time.perf_counter()
    for start in range(0, len(texts), 16):
        embedder.inner.embed_passages(texts[start : start + 16])
    return len(texts) / (time.perf_counter() - started)


class TimedEmbedder(corpus.StandInEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seconds, self.texts = 0.0, 0

    def embed_passages(self, texts: list[str]):
        started = time.perf_counter()
        try:
            return super().embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)


def store_part(size: int, mode: str, queries: list[str], chroma_url: str | None, per_doc: int) -> dict:
    from rag.embedding.cache import QueryCachingEmbedder
    from rag.index import open_client, open_knowledge_base
    from rag.retrieve import Retriever
    from rag.settings import Settings

    docs_dir = WORK / f"corpus-{size}-{per_doc}"
    files = corpus.write_documents(docs_dir, size, per_doc)
    data_dir = WORK / f"data-{mode}-{size}"
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(
        data_dir=data_dir,
        collection=f"scale-{size}",
        chroma_url=chroma_url,
        progress=False,
        corpus=(docs_dir,),
    )
    embedder = TimedEmbedder()
    kb = open_knowledge_base(settings, embedder=QueryCachingEmbedder(embedder), client=open_client(settings))
    from rag.index import drop_collection

    drop_collection(settings, kb.store.handle)
    kb = open_knowledge_base(settings, embedder=QueryCachingEmbedder(embedder), client=open_client(settings))
    started = time.perf_counter()
    report = kb.ingest([docs_dir])
    ingest_s = time.perf_counter() - started
    chunks = kb.store.count()
    started = time.perf_counter()
    again = open_knowledge_base(
        settings, embedder=QueryCachingEmbedder(embedder), client=open_client(settings)
    )
    second = again.ingest([docs_dir])
    reingest_s = time.perf_counter() - started
    retriever = Retriever(again, candidates=settings.candidates, rrf_k=settings.rrf_k)
    latency = {}
    for retrieval in ("keyword", "dense", "hybrid"):
        samples = []
        for question in queries:
            again.embedder.embed_query(question)  # the question's vector is not what is measured
            started = time.perf_counter()
            with again.reading():
                retriever.retrieve(question, k=5, mode=retrieval)
            samples.append(time.perf_counter() - started)
        latency[retrieval] = percentiles(samples)
    overhead = ingest_s - embedder.seconds
    return {
        "passages": size,
        "files": files,
        "chunks_indexed (records, zh + en views)": chunks,
        "chunks_written": report.chunks_written,
        "ingest_s": round(ingest_s, 1),
        "stand_in_encode_s": round(embedder.seconds, 1),
        "pipeline_s (ingest minus encode)": round(overhead, 1),
        "pipeline_ms_per_chunk": round(1000 * overhead / max(report.chunks_written, 1), 3),
        "ingest_chunks_per_s": round(report.chunks_written / ingest_s, 1),
        "reingest_unchanged_s": round(reingest_s, 1),
        "reingest_wrote_nothing": second.wrote_nothing,
        "retrieval_excluding_question_embedding": latency,
        "disk_mb (data folder)": folder_mb(data_dir),
        "peak_rss_mb": peak_rss_mb(),
    }


def dense_profile(size: int, queries: list[str]) -> dict[str, Any]:
    """The slowest stage of retrieval, taken apart on the embedded ``size`` index a store run left:
    one unfiltered Chroma query against the script-filtered ones the retriever adds."""
    from rag.index import open_client, open_knowledge_base
    from rag.settings import Settings

    settings = Settings(data_dir=WORK / f"data-embedded-{size}", collection=f"scale-{size}", progress=False)
    embedder = corpus.StandInEmbedder()
    kb = open_knowledge_base(settings, embedder=embedder, client=open_client(settings))
    found = {}
    for label, where in (
        ("unfiltered", {}),
        ("script=en", {"script": "en"}),
        ("script=zh", {"script": "zh"}),
    ):
        samples = []
        for question in queries:
            vector = embedder.embed_query(question)
            started = time.perf_counter()
            kb.store.search(vector, k=30, **where)
            samples.append(time.perf_counter() - started)
        found[f"chroma search, {label}"] = percentiles(samples)
    found["note"] = (
        "hybrid = keyword + dense; dense = an unfiltered search plus one inside the other script "
        "(script=en for a Chinese question, script=zh for an English one): Chroma's metadata "
        "filter, not the HNSW search, is the slowest stage"
    )
    return found


def start_server(path: Path) -> tuple[subprocess.Popen, str]:
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [
            str(executable if executable.exists() else "chroma"),
            "run",
            "--path",
            str(path),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("chroma run did not start")


def child(args: argparse.Namespace) -> None:
    queries = corpus.questions(args.queries)
    if args.part == "keyword":
        result = keyword_part(args.child_size, queries, args.keyword_impl)
    elif args.part == "profile":
        result = dense_profile(args.child_size, queries)
    else:
        result = store_part(args.child_size, args.mode, queries, args.chroma_url, args.per_doc)
    print("RESULT " + json.dumps(result, ensure_ascii=False))


def run_child(argv: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=os.environ | {"RAG_PROGRESS": "false"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"child {argv} failed: {done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--part", choices=("keyword", "store", "profile", "all"), default="all")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--per-doc", type=int, default=20, help="passages per document file")
    parser.add_argument("--keyword-impl", help="a keyword.py to measure instead (before/after)")
    parser.add_argument("--label", default="", help="suffix of the keyword entries' names")
    parser.add_argument("--child-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_size:
        return child(args)
    previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    entries = previous.get("entries", {})
    sizes = [int(s) for s in args.sizes.split(",")]
    common = ["--queries", str(args.queries), "--per-doc", str(args.per_doc)]
    if args.part in ("keyword", "all"):
        impl = ["--keyword-impl", args.keyword_impl] if args.keyword_impl else []
        for size in sizes:
            key = f"keyword/{size}{args.label}"
            entries[key] = run_child(["--part", "keyword", "--child-size", str(size), *common, *impl])
            print(f"{key}: {json.dumps(entries[key], ensure_ascii=False)}", flush=True)
    if args.part == "profile":  # after a store run of that size
        for size in sizes:
            entries[f"profile/dense/{size}"] = run_child(
                ["--part", "profile", "--child-size", str(size), *common]
            )
            print(f"profile {size}: {json.dumps(entries[f'profile/dense/{size}'], ensure_ascii=False)}")
    if args.part in ("store", "all"):
        for mode in args.modes.split(","):
            server, url = (None, None)
            if mode == "server":
                shutil.rmtree(WORK / "server", ignore_errors=True)
                server, url = start_server(WORK / "server")
            try:
                for size in sizes:
                    argv = ["--part", "store", "--mode", mode, "--child-size", str(size), *common]
                    result = run_child(argv + (["--chroma-url", url] if url else []))
                    if server is not None:
                        result["disk_mb (server folder)"] = folder_mb(WORK / "server")
                    entries[f"store/{mode}/{size}"] = result
                    print(f"store {mode} {size}: {json.dumps(result, ensure_ascii=False)}", flush=True)
            finally:
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
    sample = corpus.passages(256)
    rate = real_encode_rate(sample)
    payload = {
        "benchmark": "scale",
        "date": now_iso(),
        "machine": machine_info(),
        "embedder": "store parts use a STAND-IN embedder (hashed bigrams, 384-d): they measure the "
        "store and the pipeline, not retrieval quality",
        "corpus": corpus.__doc__.split("\n\n")[1].replace("\n", " "),
        "real_model_encode_chunks_per_s (builtin, ONNX int8, batches of 16)": round(rate, 1),
        "entries": entries,
    }
    for key, entry in entries.items():
        if key.startswith("store/"):
            per_chunk = entry["pipeline_ms_per_chunk"] / 1000
            entry["projected_overhead_share_with_real_model"] = round(per_chunk / (per_chunk + 1 / rate), 3)
    OUT.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
