"""Index stage: the knowledge base (Chroma + keyword index) and incremental ingestion.

Chroma's record metadata is the registry of what is indexed (document id, source path, file
hash, offsets), so there is no third file to drift. Every record of a document also carries the
document's state: the file hash and how many records the document has (``doc_records``). A
document is done when all its records carry the file's current hash and their number is
``doc_records``; anything else (a run killed half-way) is finished by the next run.

A file's update is three steps, each safe to interrupt: write the new records (new hash and
count), delete the outdated ones, then stamp the kept ones with the new state, which marks the
file done. Vectors of unchanged chunk texts are reused. Files are read, chunked and embedded one
by one, outside any lock; their changes are committed in short exclusive sections (see
``rag.locks``), so a bad or huge file costs only itself and readers in other processes keep
answering, then see the new documents. A document's id is its file's stem, unless another file
with the same stem is indexed already: then the stem plus a hash of the path. ``prune`` drops the
documents whose source files no longer exist. The keyword index follows Chroma: it is checked on
open and after every change by another process, and rebuilt where out of step.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag import terms
from rag.chunk import Chunker
from rag.embedding.base import Embedder
from rag.ingest import (
    IngestReport,
    Prepared,
    Registry,
    chunk_metadata,
    discover_files,
    embed_batches,
    new_records,
    prepare_file,
    progress_bar,
)
from rag.load import MB, LoadLimits
from rag.locks import guard_for
from rag.ocr import OcrOptions
from rag.settings import Settings
from rag.stores import drop_collection, index_mismatch, keyword_path, open_client
from vectorstore.chroma_store import ChromaStore, StoredChunk
from vectorstore.keyword import KeywordIndex

__all__ = ["KnowledgeBase", "drop_collection", "keyword_path", "open_client", "open_knowledge_base"]

log = logging.getLogger(__name__)
_COMMIT_SECONDS = 2.0  # prepared files are committed together at most this often (and at the end)
_KEYWORD_SAVE_SECONDS = 10.0  # the keyword file is rewritten at most this often (and at the end)


@dataclass(frozen=True)
class DocumentSummary:
    doc_id: str
    title: str
    date: str
    doc_number: str
    source_path: str
    chunks: int
    added_at: str


class KnowledgeBase:
    """One collection: dense vectors in Chroma, keyword tokens beside them."""

    def __init__(self, *, settings: Settings, embedder: Embedder, client: Any) -> None:
        self.settings = settings
        self.embedder = embedder
        self.guard = guard_for(settings.data_dir)
        self.chunker = Chunker(size=settings.chunk_size, overlap=settings.chunk_overlap)
        self.limits = LoadLimits(
            max_chars=settings.max_document_chars, max_archive_bytes=settings.max_archive_mb * MB
        )
        self.ocr = OcrOptions(
            enabled=settings.ocr,
            low_confidence=settings.ocr_low_confidence,
            progress=settings.progress,
            cache_dir=settings.models_dir / "ocr",
        )
        self.notify: Callable[[str], None] = log.warning  # tells a waiting writer who holds the lock
        self._seen: tuple[int, int] | None = None
        self._stamp = ""  # the collection's stamp the keyword index was synced at
        self._spare: list[StoredChunk] | None = None  # records read by the last sync, until a commit
        self._depth = threading.local()  # reading() nesting per thread: stamps are checked outermost
        self._last_keyword_save = 0.0
        self._keyword_unsaved = False
        with self.guard.shared():
            handle = getattr(client, "reopenable", False) and client
            if handle and getattr(handle, "generation", None) != self.guard.generation():
                with self.guard.upgraded():
                    handle.generation = self.guard.generation()
                    handle.reopen()  # opened before another process's last write, or never synced
            self.store = ChromaStore(
                client=client,
                collection=settings.collection,
                model_id=embedder.model_id,
                dimension=embedder.dimension,
                mismatch=index_mismatch,
            )
            self.keyword = KeywordIndex(keyword_path(settings), terms=terms)
            self._seen = self.guard.generation()
            self._stamp = self.store.stamp()
            if self._sync_keyword_index() and self.store.remote:
                self.keyword.save()  # this machine's copy, for the next start

    # --- reading ------------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[None]:
        """Read the indexes: no commit runs meanwhile, and another process's (on a Chroma server,
        another machine's: the collection's stamp, one request per outermost read) changes are seen."""
        depth = getattr(self._depth, "n", 0)
        with self.guard.shared():
            self._depth.n = depth + 1
            try:
                moved = self.guard.generation() != self._seen
                if moved or (not depth and self.store.remote and self.store.stamp() != self._stamp):
                    with self.guard.upgraded():
                        self._refresh()
                yield
            finally:
                self._depth.n = depth

    def _refresh(self) -> None:
        """Catch up with changes made by someone else (the caller excludes this process's readers)."""
        now = self.guard.generation()
        stamp = self.store.stamp() if self.store.remote else self._stamp
        if now == self._seen and stamp == self._stamp:
            return
        handle = self.store.handle
        if handle.reopenable and getattr(handle, "generation", None) != now:
            handle.reopen()
            handle.generation = now
        if now != self._seen:
            self.keyword.reload()
        if self._sync_keyword_index() and self.store.remote:
            self.keyword.save()
        self._seen, self._stamp = now, stamp

    def _sync_keyword_index(self) -> bool:
        """Make the keyword index hold exactly Chroma's chunks (in memory; writers and readers of
        a server, whose file is this machine's copy, save it); True when something changed."""
        records = self._spare = self.store.all_metadata()  # the registry's next read reuses it
        stored = {c.metadata.get("chunk_id", c.chunk_id): c.metadata for c in records}
        extra = self.keyword.chunk_ids - set(stored)
        missing = set(stored) - self.keyword.chunk_ids
        moved = {c for c in set(stored) - missing if self.keyword.doc_of(c) != stored[c].get("doc_id", "")}
        if not (extra or missing or moved):
            return False
        log.info(
            "keyword index out of step with Chroma (%d vs %d chunks): rebuilding",
            len(self.keyword),
            len(stored),
        )
        self.keyword.remove(sorted(extra | moved))
        for chunk in self.store.get(sorted(missing | moved)):
            self.keyword.add(chunk.chunk_id, chunk.metadata.get("doc_id", ""), _keyword_text(chunk))
        return True

    def registry(self) -> dict[str, list[StoredChunk]]:  # doc_id -> its records (metadata only)
        return Registry(self.registry_records()).docs

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

    def unknown_documents(self, doc_ids: Iterable[str]) -> list[str]:
        """Which of ``doc_ids`` the knowledge base does not hold."""
        with self.reading():
            known = self.keyword.doc_ids
        return sorted(set(doc_ids) - known)

    # --- writing ------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Be the only writer of the data folder (waiting, up to ``write_lock_timeout``)."""
        with self.guard.writer(timeout=self.settings.write_lock_timeout, waiting=self.notify):
            yield

    @contextmanager
    def _committing(self, *, save_keyword: bool = True) -> Iterator[None]:
        """One commit: readers everywhere are kept out, and told to look again afterwards (the
        marker moves first too, so a writer killed half-way still makes them look)."""
        with self.guard.exclusive():
            self._refresh()
            self._spare = None
            self.guard.bump()
            try:
                yield
            finally:
                if save_keyword or time.monotonic() - self._last_keyword_save >= _KEYWORD_SAVE_SECONDS:
                    self.keyword.save()
                    self._last_keyword_save, self._keyword_unsaved = time.monotonic(), False
                else:
                    self._keyword_unsaved = True
                self._stamp = self._bump_stamp()
                self._seen = self.guard.bump()
                self.store.handle.generation = self._seen

    def _bump_stamp(self) -> str:  # readers on other machines (same server) will refresh
        try:
            return self.store.bump_stamp()
        except Exception as exc:  # the records are written; only remote readers notice later
            log.warning("could not stamp the collection as changed (%s: %s)", type(exc).__name__, exc)
            return self._stamp

    def ingest(self, paths: Iterable[Path], *, prune: bool = False, force: bool = False) -> IngestReport:
        """Add, update (and with ``prune`` remove) documents; ``force`` re-checks every file's
        chunks even when its hash says it is unchanged (what ``rag doctor --repair`` needs)."""
        started = time.perf_counter()
        report = IngestReport()
        files = discover_files(paths)
        with self.writing():
            registry = Registry(self.registry_records())
            pending: list[Prepared] = []
            last_commit = time.monotonic()
            with progress_bar(self.settings.progress) as bar:
                for path in files:
                    prepared = prepare_file(
                        path,
                        registry,
                        report,
                        chunker=self.chunker,
                        limits=self.limits,
                        ocr=self.ocr,
                        embed=lambda texts: embed_batches(
                            self.embedder, texts, self.settings.embedding_batch_size, bar
                        ),
                        force=force,
                    )
                    if prepared is not None:
                        pending.append(prepared)
                    if pending and time.monotonic() - last_commit >= _COMMIT_SECONDS:
                        self._commit(pending, registry, report, final=False)
                        pending, last_commit = [], time.monotonic()
                if pending or self._keyword_unsaved or (prune and self._gone(registry)):
                    with self._committing():
                        self._apply_all(pending, registry, report)
                        if prune:
                            self._prune(registry, report)
        report.seconds = time.perf_counter() - started
        return report

    def registry_records(self) -> list[StoredChunk]:
        """Every record's metadata: the list the last sync read, unless a commit came since."""
        with self.reading():
            spare, self._spare = self._spare, None
            return spare if spare is not None else self.store.all_metadata()

    def _commit(
        self, pending: list[Prepared], registry: Registry, report: IngestReport, *, final: bool
    ) -> None:
        with self._committing(save_keyword=final):
            self._apply_all(pending, registry, report)

    def _apply_all(self, pending: list[Prepared], registry: Registry, report: IngestReport) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        together = self._write_new_together(pending, now)
        for prepared in pending:
            try:
                self._apply(prepared, registry, report, now, written=together)
            except Exception as exc:  # a store error costs this file only; a re-run completes it
                log.debug("committing %s failed", prepared.path, exc_info=True)
                report.failed.append(
                    (str(prepared.path), f"could not be written ({type(exc).__name__}: {exc})")
                )

    def _write_new_together(self, pending: list[Prepared], now: str) -> bool:
        """Step 1 of every pending file in one write: a Chroma write costs ≈ 0.2 s a call whatever
        its size (embedded). When it fails, each file is written on its own (and fails alone)."""
        parts = [new_records(p, now, self.ocr.low_confidence) for p in pending]
        parts = [part for part in parts if part[0]]
        if len(parts) < 2:
            return False
        try:
            self.store.upsert(
                [i for part in parts for i in part[0]],
                [t for part in parts for t in part[1]],
                [m for part in parts for m in part[2]],
                np.vstack([part[3] for part in parts]),
            )
        except Exception:
            log.debug("writing %d files together failed; one by one instead", len(parts), exc_info=True)
            return False
        return True

    def _apply(
        self, p: Prepared, registry: Registry, report: IngestReport, now: str, *, written: bool
    ) -> None:
        """The three steps of a file's update (see the module docstring); ``written``: step 1 is done."""
        doc, total = p.document, len(p.views)
        chunk_ids = {chunk.chunk_id for chunk, _, _ in p.views.values()}
        new, texts, metadatas, vectors = new_records(p, now, self.ocr.low_confidence)
        if new and not written:
            self.store.upsert(new, texts, metadatas, vectors)
        written = {p.views[rid][0].chunk_id: p.views[rid][0] for rid in new}
        for chunk in written.values():
            self.keyword.add(chunk.chunk_id, doc.doc_id, chunk.text_for_embedding)
        report.chunks_written += len(written)
        self._delete_records([o for o in p.old if o.chunk_id not in p.views], report, keep=chunk_ids)
        kept = [o for o in p.old if o.chunk_id in p.views]
        metadatas = [
            chunk_metadata(
                doc, p.views[o.chunk_id][0], now, p.views[o.chunk_id][2], total, self.ocr.low_confidence
            )
            for o in kept
        ]
        self.store.update_metadata([o.chunk_id for o in kept], metadatas)
        (report.updated if p.old else report.added).append(doc.doc_id)
        registry.docs[doc.doc_id] = [
            StoredChunk(rid, "", chunk_metadata(doc, chunk, now, script, total, self.ocr.low_confidence))
            for rid, (chunk, _, script) in p.views.items()
        ]
        registry.by_source[doc.source_path] = doc.doc_id

    def _gone(self, registry: Registry) -> list[str]:
        """Documents whose source file no longer exists."""
        return [
            doc_id
            for doc_id in sorted(registry.docs)
            if registry.source_of(doc_id) and not os.path.lexists(registry.source_of(doc_id))
        ]

    def _prune(self, registry: Registry, report: IngestReport) -> None:
        for doc_id in self._gone(registry):
            self._delete_records(registry.docs.pop(doc_id), report)
            report.removed.append(doc_id)

    def _delete_records(
        self, records: list[StoredChunk], report: IngestReport, keep: set[str] = frozenset()
    ) -> None:
        """Delete stored records from Chroma and their chunks (unless in ``keep``) from the keyword index."""
        if records:
            chunk_ids = sorted({r.metadata.get("chunk_id", r.chunk_id) for r in records} - keep)
            self.store.delete([r.chunk_id for r in records])
            self.keyword.remove(chunk_ids)
            report.chunks_deleted += len(chunk_ids)

    def remove_records(self, record_ids: Iterable[str]) -> None:
        """Delete individual records (``rag doctor --repair`` of mislabelled ones)."""
        with self.writing(), self._committing():
            records = self.store.get(list(record_ids))
            self._delete_records(records, IngestReport())

    def rewrite_keyword_index(self) -> None:
        """Make the keyword file hold exactly Chroma's chunks."""
        with self.writing(), self._committing():
            self._sync_keyword_index()

    def remove_documents(self, doc_ids: Iterable[str]) -> int:
        """Delete documents from both indexes; returns the number of chunks removed."""
        report = IngestReport()
        with self.writing():
            registry = Registry(self.registry_records())
            with self._committing():
                for doc_id in doc_ids:
                    self._delete_records(registry.docs.get(doc_id, []), report)
        return report.chunks_deleted


def open_knowledge_base(
    settings: Settings, *, embedder: Embedder | None = None, client: Any = None
) -> KnowledgeBase:
    """The knowledge base the settings name; its embedder loads the model on first use."""
    if embedder is None:
        from rag.embedding.lazy import lazy_embedder

        embedder = lazy_embedder(settings)
    if client is None:
        client = open_client(settings)
    return KnowledgeBase(settings=settings, embedder=embedder, client=client)


def _keyword_text(chunk: StoredChunk) -> str:
    section = chunk.metadata.get("section", "")
    return f"{section}\n{chunk.text}" if section else chunk.text
