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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.chunk import Chunker
from rag.clean import clean
from rag.embedding.base import Embedder
from rag.errors import LoadError
from rag.load import SUPPORTED_EXTENSIONS, load_document
from rag.settings import Settings
from rag.textnorm import is_chinese
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
        stored = {c.metadata.get("chunk_id", c.chunk_id) for c in self.store.all_metadata()}
        if stored == self.keyword.chunk_ids:
            return
        log.warning(
            "keyword index out of step with Chroma (%d vs %d chunks): rebuilding",
            len(self.keyword),
            len(stored),
        )
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
                    chunks=len({c.metadata.get("chunk_id", c.chunk_id) for c in chunks}),
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
                self._delete_records(registry[doc_id], report)
            report.removed.extend(gone)
        if pending or report.removed:
            self.keyword.save()
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self, pending: list[tuple[Document, list[Chunk], list[StoredChunk]]], report: IngestReport
    ) -> None:
        old_ids = {o.metadata.get("chunk_id", o.chunk_id) for _, _, old in pending for o in old}
        new_chunks = [(doc, c) for doc, chunks, _ in pending for c in chunks if c.chunk_id not in old_ids]
        views = [(doc, chunk, view) for doc, chunk in new_chunks for view in embedding_views(chunk)]
        vectors = self._embed([text for _, _, (_, text, _) in views])
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.store.upsert(
            [record_id for _, _, (record_id, _, _) in views],
            [chunk.text for _, chunk, _ in views],
            [_chunk_metadata(doc, chunk, now, script) for doc, chunk, (_, _, script) in views],
            vectors,
        )
        for doc, chunk in new_chunks:
            self.keyword.add(chunk.chunk_id, doc.doc_id, chunk.text_for_embedding)
        report.chunks_written += len(new_chunks)
        for doc, chunks, old in pending:
            by_id = {c.chunk_id: c for c in chunks}
            kept = [o for o in old if o.metadata.get("chunk_id", o.chunk_id) in by_id]
            self.store.update_metadata(
                [o.chunk_id for o in kept],
                [
                    _chunk_metadata(doc, by_id[o.metadata["chunk_id"]], now, o.metadata["script"])
                    for o in kept
                ],
            )
            self._delete_records(
                [o for o in old if o.metadata.get("chunk_id", o.chunk_id) not in by_id], report
            )
            (report.updated if old else report.added).append(doc.doc_id)

    def _embed(self, texts: list[str]):
        import numpy as np
        from tqdm import tqdm

        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        batch = self.settings.embedding_batch_size
        parts = []
        with tqdm(
            total=len(texts), desc="Embedding", unit="chunk", disable=not self.settings.progress
        ) as bar:
            for start in range(0, len(texts), batch):
                parts.append(self.embedder.embed_passages(texts[start : start + batch]))
                bar.update(len(parts[-1]))
        return np.vstack(parts)

    def _delete_records(self, records: list[StoredChunk], report: IngestReport) -> None:
        """Delete stored records (all views of their chunks) from both indexes."""
        if records:
            chunk_ids = sorted({r.metadata.get("chunk_id", r.chunk_id) for r in records})
            self.store.delete([r.chunk_id for r in records])
            self.keyword.remove(chunk_ids)
            report.chunks_deleted += len(chunk_ids)

    def remove_documents(self, doc_ids: Iterable[str]) -> int:
        """Delete documents from both indexes; returns the number of chunks removed."""
        registry = self.registry()
        report = IngestReport()
        for doc_id in doc_ids:
            self._delete_records(registry.get(doc_id, []), report)
        self.keyword.save()
        return report.chunks_deleted


def script_of(language: str) -> str:
    """'zh', 'en' or 'zh+en': the partition dense retrieval searches per question language."""
    if "+" in language:
        return "zh+en"
    return "zh" if language.startswith("zh") else "en"


def _keyword_text(chunk: StoredChunk) -> str:
    section = chunk.metadata.get("section", "")
    return f"{section}\n{chunk.text}" if section else chunk.text


def embedding_views(chunk: Chunk) -> list[tuple[str, str, str]]:
    """``(record id, text to embed, script)`` per vector. A bilingual passage gets one vector per
    language: mixed, its vector would follow the longer (English) half and a Chinese question
    would miss it. Both records carry the full passage and map back to the same chunk."""
    script = script_of(chunk.language)
    if script != "zh+en":
        return [(chunk.chunk_id, chunk.text_for_embedding, script)]
    paragraphs = [p for p in chunk.text.split("\n\n") if p.strip()]
    chinese = "\n".join(p for p in paragraphs if is_chinese(p))
    english = "\n".join(p for p in paragraphs if not is_chinese(p))
    prefix = f"{chunk.section}\n" if chunk.section else ""
    return [(chunk.chunk_id, prefix + chinese, "zh"), (f"{chunk.chunk_id}#en", prefix + english, "en")]


def _chunk_metadata(doc: Document, chunk: Chunk, added_at: str, script: str) -> dict[str, Any]:
    meta = {
        "chunk_id": chunk.chunk_id,
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
        "script": script,
        "added_at": added_at,
    }
    return {k: v for k, v in meta.items() if v is not None}
