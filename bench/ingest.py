"""Ingest benchmark: chunks/s of a fresh ingest next to the model's raw encode speed. Run on demand:

    .venv/bin/python bench/ingest.py                  # 300 DRCD paragraphs, ~5 min on 2 cores
    .venv/bin/python bench/ingest.py --corpus bundled --docs 40

Corpus: the first ``--docs`` DRCD dev paragraphs (traditional Chinese, ~450 characters each, one
``.txt`` per paragraph), or the bundled Sichuan corpus repeated under new names until there are
``--docs`` files. It is ingested with the project's settings (``rag.toml`` / ``RAG_*`` apply) into a
fresh collection, ``bench-ingest``, dropped first. Reported:

* fresh ingest: chunks (and vectors) per second, and the share of that time spent in the embedder;
* raw encode: ``embed_passages`` on exactly the texts the ingest embedded, in batches of
  ``embedding_batch_size``, so the difference is the pipeline's own cost (load, clean, chunk,
  tokenise, Chroma writes);
* re-ingest of the unchanged corpus: opening the knowledge base again and ingesting (should write
  nothing and take about as long as hashing the files).

Results go to bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    REPO,
    RESULTS_DIR,
    drop_collection,
    machine_info,
    now_iso,
    settings_record,
    write_corpus,
    write_json,
)

DRCD_PATH = REPO.parent / "shared" / "datasets" / "drcd" / "DRCD_dev.json"
COLLECTION = "bench-ingest"


class RecordingEmbedder:
    """Passes calls through to the real embedder, keeping the passage texts and the time spent."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.seconds = 0.0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed_passages(texts)
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", choices=("drcd", "bundled"), default="drcd")
    parser.add_argument("--docs", type=int, default=300, help="documents in the corpus (default 300)")
    parser.add_argument("--data-dir", type=Path, help="data dir (default: the project's settings)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "ingest.json")
    return parser.parse_args(argv)


def drcd_documents(count: int) -> dict[str, str]:
    data = json.loads(DRCD_PATH.read_text(encoding="utf-8"))["data"]
    paragraphs = {p["id"]: p["context"] for article in data for p in article["paragraphs"]}
    return dict(list(paragraphs.items())[:count])


def prepare_corpus(settings, corpus: str, count: int) -> Path:
    folder = settings.data_dir / "bench" / "corpora" / f"ingest-{corpus}-{count}"
    if corpus == "drcd":
        write_corpus(folder, drcd_documents(count))
        return folder
    from rag.ingest import discover_files

    sources = discover_files(list(settings.corpus))
    if not sources:
        raise SystemExit(f"no documents in the bundled corpus {settings.corpus}")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        source = sources[i % len(sources)]
        target = folder / f"{source.stem}-copy{i // len(sources)}{source.suffix}"
        if not target.is_file():
            shutil.copyfile(source, target)
    return folder


def fresh_ingest(settings, client, embedder: RecordingEmbedder, folder: Path) -> dict:
    from rag.pipeline import open_knowledge_base

    drop_collection(client, settings)
    started = time.perf_counter()
    kb = open_knowledge_base(settings, embedder=embedder, client=client)
    opened = time.perf_counter() - started
    report = kb.ingest([folder])
    if report.failed:
        raise SystemExit(f"{len(report.failed)} files failed: {report.failed[:3]}")
    chunks, vectors = report.chunks_written, kb.store.count()
    return {
        "documents": len(report.added), "chunks": chunks, "vectors": vectors,
        "open_seconds": round(opened, 3), "ingest_seconds": round(report.seconds, 2),
        "chunks_per_second": round(chunks / report.seconds, 2),
        "vectors_per_second": round(vectors / report.seconds, 2),
        "embed_seconds": round(embedder.seconds, 2),
        "embed_share": round(embedder.seconds / report.seconds, 3),
    }  # fmt: skip


def raw_encode(embedder, texts: list[str], batch_size: int) -> dict:
    print(f"raw encode of {len(texts)} texts in batches of {batch_size}", flush=True)
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        embedder.embed_passages(texts[start : start + batch_size])
    seconds = time.perf_counter() - started
    return {
        "texts": len(texts), "batch_size": batch_size, "seconds": round(seconds, 2),
        "texts_per_second": round(len(texts) / seconds, 2),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
    }  # fmt: skip


def reingest(settings, client, embedder, folder: Path) -> dict:
    from rag.pipeline import open_knowledge_base

    started = time.perf_counter()
    kb = open_knowledge_base(settings, embedder=embedder, client=client)
    opened = time.perf_counter() - started
    report = kb.ingest([folder])
    return {
        "open_seconds": round(opened, 3), "ingest_seconds": round(report.seconds, 3),
        "total_seconds": round(opened + report.seconds, 3), "unchanged_documents": len(report.unchanged),
        "chunks_written": report.chunks_written, "wrote_nothing": report.wrote_nothing,
    }  # fmt: skip


def markdown_table(result: dict) -> str:
    fresh, raw, again = result["fresh_ingest"], result["raw_encode"], result["reingest_unchanged"]
    return "\n".join(
        [
            "| measure | value |",
            "|---|---:|",
            f"| corpus | {result['corpus']['description']} |",
            f"| documents / chunks / vectors | {fresh['documents']} / {fresh['chunks']} "
            f"/ {fresh['vectors']} |",
            f"| embedder load (first use) | {result['embedder_load_seconds']:.1f} s |",
            f"| fresh ingest | {fresh['ingest_seconds']:.1f} s = {fresh['chunks_per_second']:.2f} chunks/s "
            f"({fresh['vectors_per_second']:.2f} vectors/s) |",
            f"| of which embedding | {fresh['embed_seconds']:.1f} s ({fresh['embed_share']:.0%}) |",
            f"| raw encode, same texts | {raw['seconds']:.1f} s = {raw['texts_per_second']:.2f} texts/s |",
            f"| re-ingest unchanged (open + ingest) | {again['open_seconds']:.2f} s + "
            f"{again['ingest_seconds']:.2f} s, {again['chunks_written']} chunks written |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info()
    from rag.embedding import create_embedder
    from rag.settings import load_settings
    from vectorstore.chroma_store import make_client

    settings = load_settings().with_overrides(data_dir=args.data_dir, collection=COLLECTION, progress=True)
    folder = prepare_corpus(settings, args.corpus, args.docs)
    started = time.perf_counter()
    embedder = create_embedder(settings)
    embedder.embed_passages(["warm-up"])
    load_seconds = time.perf_counter() - started
    client = make_client(
        persist_dir=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port
    )
    recorder = RecordingEmbedder(embedder)
    fresh = fresh_ingest(settings, client, recorder, folder)
    raw = raw_encode(embedder, recorder.texts, settings.embedding_batch_size)
    again = reingest(settings, client, embedder, folder)
    description = (
        f"first {args.docs} DRCD dev paragraphs"
        if args.corpus == "drcd"
        else f"bundled corpus repeated to {args.docs} files"
    )
    result = {
        "benchmark": "ingest", "date": now_iso(), "machine": info,
        "settings": settings_record(settings),
        "corpus": {
            "name": args.corpus, "documents": args.docs, "folder": str(folder), "description": description,
        },
        "embedder": {"type": type(embedder).__name__, "model_id": embedder.model_id},
        "embedder_load_seconds": round(load_seconds, 2),
        "fresh_ingest": fresh, "raw_encode": raw, "reingest_unchanged": again,
    }  # fmt: skip
    write_json(args.output, result)
    print("\n" + markdown_table(result))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
