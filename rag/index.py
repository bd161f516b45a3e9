"""Index stage: the knowledge base (Chroma + keyword index) and incremental ingestion.

Chroma's chunk metadata is the registry of what is indexed (document id, file hash, offsets), so
there is no third file to drift. Re-ingesting an unchanged file costs one hash; a changed file's
chunks are replaced (vectors of unchanged chunk texts are reused); ``prune`` drops documents whose
files are gone. The keyword index is checked against Chroma when opened and rebuilt if out of step.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.chunk import Chunker
from rag.clean import clean
from rag.embedding.base import Embedder
from rag.errors import LoadError
from rag.load import SUPPORTED_EXTENSIONS, load_document
from rag.settings import Settings
from rag.types import Chunk, Document
from vectorstore.chroma_store import ChromaStore, StoredChunk
from vectorstore.keyword import KeywordIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentSummary:
    doc_id: str
    title: str
    date: str
    doc_number: str
    source_path: str
    chunks: int
    added_at: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks_written: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0

    @property
    def wrote_nothing(self) -> bool:
        return not (self.chunks_written or self.chunks_deleted or self.added or self.updated or self.removed)


def discover_files(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: given files, and supported files under given directories (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_EXTENSIONS
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            found.append(path)
        else:
            raise LoadError(f"{path}: no such file or directory")
    return found


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class KnowledgeBase:
    """One collection: dense vectors in Chroma, keyword tokens beside them."""

    def __init__(self, *, settings: Settings, embedder: Embedder, client: Any) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = ChromaStore(client=client, collection=settings.collection, embedder=embedder)
        self.keyword = KeywordIndex(settings.data_dir / "keyword" / f"{settings.collection}.json")
        self.chunker = Chunker(size=settings.chunk_size, overlap=settings.chunk_overlap)
        self._sync_keyword_index()

    def _sync_keyword_index(self) -> None:
        stored = {c.chunk_id for c in self.store.all_metadata()}
        if stored == self.keyword.chunk_ids:
            return
        log.warning("keyword index out of step with Chroma (%d vs %d chunks): rebuilding",
                    len(self.keyword), len(stored))
        self.keyword.remove(list(self.keyword.chunk_ids - stored))
        for chunk in self.store.get(sorted(stored - self.keyword.chunk_ids)):
            self.keyword.add(chunk.chunk_id, chunk.metadata.get("doc_id", ""), _keyword_text(chunk))
        self.keyword.save()

    def registry(self) -> dict[str, list[StoredChunk]]:
        """doc_id -> its stored chunks (metadata only)."""
        docs: dict[str, list[StoredChunk]] = {}
        for chunk in self.store.all_metadata():
            docs.setdefault(chunk.metadata.get("doc_id", ""), []).append(chunk)
        return docs

    def documents(self) -> list[DocumentSummary]:
        summaries = []
        for doc_id, chunks in sorted(self.registry().items()):
            meta = chunks[0].metadata
            summaries.append(
                DocumentSummary(
                    doc_id=doc_id,
                    title=meta.get("title", ""),
                    date=meta.get("date", ""),
                    doc_number=meta.get("doc_number", ""),
                    source_path=meta.get("source_path", ""),
                    chunks=len(chunks),
                    added_at=meta.get("added_at", ""),
                )
            )
        return summaries

    def ingest(self, paths: Iterable[Path], *, prune: bool = False) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        registry = self.registry()
        seen: dict[str, Path] = {}
        pending: list[tuple[Document, list[Chunk], list[StoredChunk]]] = []
        for path in discover_files(paths):
            doc_id = path.stem
            if doc_id in seen:
                report.failed.append((str(path), f"another file has the same name: {seen[doc_id]}"))
                continue
            seen[doc_id] = path
            old = registry.get(doc_id, [])
            if old and old[0].metadata.get("doc_sha256") == file_sha256(path):
                report.unchanged.append(doc_id)
                continue
            try:
                document = clean(load_document(path))
            except LoadError as exc:
                report.failed.append((str(path), str(exc)))
                continue
            pending.append((document, self.chunker(document), old))
        self._write(pending, report)
        if prune:
            gone = sorted(set(registry) - set(seen))
            for doc_id in gone:
                self._delete_chunks([c.chunk_id for c in registry[doc_id]], report)
            report.removed.extend(gone)
        if pending or report.removed:
            self.keyword.save()
        report.seconds = time.perf_counter() - started
        return report

    def _write(self, pending: list[tuple[Document, list[Chunk], list[StoredChunk]]], report: IngestReport) -> None:
        new_chunks = [
            (doc, chunk)
            for doc, chunks, old in pending
            for chunk in chunks
            if chunk.chunk_id not in {o.chunk_id for o in old}
        ]
        vectors = self._embed([chunk.text_for_embedding for _, chunk in new_chunks])
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.store.upsert(
            [c.chunk_id for _, c in new_chunks],
            [c.text for _, c in new_chunks],
            [_chunk_metadata(doc, c, now) for doc, c in new_chunks],
            vectors,
        )
        for doc, chunk in new_chunks:
            self.keyword.add(chunk.chunk_id, doc.doc_id, chunk.text_for_embedding)
        report.chunks_written += len(new_chunks)
        for doc, chunks, old in pending:
            kept = [c for c in chunks if c.chunk_id in {o.chunk_id for o in old}]
            self.store.update_metadata([c.chunk_id for c in kept], [_chunk_metadata(doc, c, now) for c in kept])
            new_ids = {c.chunk_id for c in chunks}
            self._delete_chunks([o.chunk_id for o in old if o.chunk_id not in new_ids], report)
            (report.updated if old else report.added).append(doc.doc_id)

    def _embed(self, texts: list[str]):
        import numpy as np
        from tqdm import tqdm

        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        batch = self.settings.embedding_batch_size
        parts = []
        with tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not self.settings.progress) as bar:
            for start in range(0, len(texts), batch):
                parts.append(self.embedder.embed_passages(texts[start : start + batch]))
                bar.update(len(parts[-1]))
        return np.vstack(parts)

    def _delete_chunks(self, chunk_ids: list[str], report: IngestReport) -> None:
        if chunk_ids:
            self.store.delete(chunk_ids)
            self.keyword.remove(chunk_ids)
            report.chunks_deleted += len(chunk_ids)

    def remove_documents(self, doc_ids: Iterable[str]) -> int:
        """Delete documents from both indexes; returns the number of chunks removed."""
        registry = self.registry()
        report = IngestReport()
        for doc_id in doc_ids:
            self._delete_chunks([c.chunk_id for c in registry.get(doc_id, [])], report)
        self.keyword.save()
        return report.chunks_deleted


def _keyword_text(chunk: StoredChunk) -> str:
    section = chunk.metadata.get("section", "")
    return f"{section}\n{chunk.text}" if section else chunk.text


def _chunk_metadata(doc: Document, chunk: Chunk, added_at: str) -> dict[str, Any]:
    meta = {
        "doc_id": doc.doc_id,
        "doc_sha256": doc.sha256,
        "source_path": doc.source_path,
        "title": doc.meta.title,
        "date": doc.meta.date,
        "doc_number": doc.meta.doc_number,
        "source": doc.meta.source,
        "doc_language": doc.meta.language,
        "section": chunk.section,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "language": chunk.language,
        "added_at": added_at,
    }
    return {k: v for k, v in meta.items() if v is not None}
