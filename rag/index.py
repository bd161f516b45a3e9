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

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import Chunker
from rag.clean import clean
from rag.embedding.base import Embedder
from rag.errors import LoadError, RagError
from rag.load import MB, SUPPORTED_EXTENSIONS, LoadLimits, is_regular_file, load_document
from rag.locks import guard_for
from rag.ocr import OcrOptions, chunk_confidence, doubtful_spans
from rag.settings import Settings
from rag.sidecar import content_hash
from rag.textnorm import is_chinese
from rag.types import Chunk, Document
from vectorstore.chroma_store import ChromaStore, StoredChunk
from vectorstore.keyword import KeywordIndex

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


def source_key(path: Path | str) -> str:
    """How a document's file is recorded and recognised: its absolute path."""
    return os.path.abspath(os.path.expanduser(str(path)))


def discover_files(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest, each once: given files, and files of supported types under given
    directories (sorted; hidden ones skipped). Non-regular files are kept, to be reported."""
    found: dict[str, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in p.relative_to(path).parts)
                if not hidden and p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.is_dir():
                    found.setdefault(source_key(p), p)
        elif path.exists() or path.is_symlink():
            found.setdefault(source_key(path), path)
        else:
            raise LoadError(f"{path}: no such file or directory")
    return list(found.values())


def file_sha256(path: Path) -> str:
    """The file's state: its bytes and its metadata sidecar's (``rag.sidecar``)."""
    return content_hash(path)


def is_complete(records: list[StoredChunk], sha256: str | None = None) -> bool:
    """All records of a document carry one state (hash and record count) that their number
    matches: the document's last update finished."""
    if not records:
        return False
    states = {(r.metadata.get("doc_sha256"), r.metadata.get("doc_records")) for r in records}
    if len(states) != 1:
        return False
    (digest, count), *_ = states
    return count == len(records) and (sha256 is None or digest == sha256)


class _Registry:
    """What is indexed, by document id and by source file, kept current during an ingest."""

    def __init__(self, records: list[StoredChunk]) -> None:
        self.docs: dict[str, list[StoredChunk]] = {}
        for record in records:
            self.docs.setdefault(record.metadata.get("doc_id", ""), []).append(record)
        self.by_source = {
            source_key(chunks[0].metadata["source_path"]): doc_id
            for doc_id, chunks in sorted(self.docs.items())
            if chunks[0].metadata.get("source_path")
        }
        self.taken = set(self.docs) | set(self.by_source.values())
        self.claimed: set[str] = set()  # ids given to a file in this run

    def doc_id_for(self, path: Path) -> str:
        """The file's id: the one it has; else its stem, when free or held by a document whose
        file is gone (a moved corpus keeps its ids); else the stem and a hash of the path."""
        key = source_key(path)
        if key in self.by_source:
            return self.by_source[key]
        doc_id, salt = path.stem, 0
        while doc_id in self.taken and not self._orphaned(doc_id):
            digest = hashlib.sha256(f"{key}\x00{salt}".encode()).hexdigest()[:8]
            doc_id, salt = f"{path.stem}~{digest}", salt + 1
        self.by_source.pop(self.source_of(doc_id) and source_key(self.source_of(doc_id)), None)
        self.by_source[key] = doc_id
        self.taken.add(doc_id)
        self.claimed.add(doc_id)
        return doc_id

    def _orphaned(self, doc_id: str) -> bool:
        source = self.source_of(doc_id)
        return doc_id not in self.claimed and bool(source) and not os.path.lexists(source)

    def source_of(self, doc_id: str) -> str:
        records = self.docs.get(doc_id) or [StoredChunk("", "", {})]
        return records[0].metadata.get("source_path", "")


@dataclass
class _Prepared:
    """A file read, chunked and embedded, waiting for its commit."""

    path: Path
    document: Document
    views: dict[str, tuple[Chunk, str, str]]  # record id -> (chunk, embedded text, script)
    vectors: dict[str, np.ndarray]  # record id -> vector, for records not stored yet
    old: list[StoredChunk]


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
        self._last_keyword_save = 0.0
        self._keyword_unsaved = False
        with self.guard.shared():
            handle = getattr(client, "reopenable", False) and client
            if handle and getattr(handle, "generation", None) != self.guard.generation():
                with self.guard.upgraded():
                    handle.generation = self.guard.generation()
                    handle.reopen()  # opened before another process's last write, or never synced
            self.store = ChromaStore(client=client, collection=settings.collection, embedder=embedder)
            self.keyword = KeywordIndex(settings.data_dir / "keyword" / f"{settings.collection}.json")
            self._seen = self.guard.generation()
            self._sync_keyword_index()

    # --- reading ------------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[None]:
        """Read the indexes: no commit runs meanwhile, and another process's changes are seen."""
        with self.guard.shared():
            if self.guard.generation() != self._seen:
                with self.guard.upgraded():
                    self._refresh()
            yield

    def _refresh(self) -> None:
        """Catch up with changes made by someone else (the caller excludes this process's readers)."""
        now = self.guard.generation()
        if now == self._seen:
            return
        handle = self.store.handle
        if handle.reopenable and getattr(handle, "generation", None) != now:
            handle.reopen()
            handle.generation = now
        self.keyword.reload()
        self._sync_keyword_index()
        self._seen = now

    def _sync_keyword_index(self) -> None:
        """Make the keyword index hold exactly Chroma's chunks (in memory; writers save it)."""
        stored = {c.metadata.get("chunk_id", c.chunk_id): c.metadata for c in self.store.all_metadata()}
        extra = self.keyword.chunk_ids - set(stored)
        missing = set(stored) - self.keyword.chunk_ids
        moved = {c for c in set(stored) - missing if self.keyword.doc_of(c) != stored[c].get("doc_id", "")}
        if not (extra or missing or moved):
            return
        log.info(
            "keyword index out of step with Chroma (%d vs %d chunks): rebuilding",
            len(self.keyword),
            len(stored),
        )
        self.keyword.remove(sorted(extra | moved))
        for chunk in self.store.get(sorted(missing | moved)):
            self.keyword.add(chunk.chunk_id, chunk.metadata.get("doc_id", ""), _keyword_text(chunk))

    def registry(self) -> dict[str, list[StoredChunk]]:
        """doc_id -> its stored records (metadata only)."""
        with self.reading():
            return _Registry(self.store.all_metadata()).docs

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
            self.guard.bump()
            try:
                yield
            finally:
                if save_keyword or time.monotonic() - self._last_keyword_save >= _KEYWORD_SAVE_SECONDS:
                    self.keyword.save()
                    self._last_keyword_save, self._keyword_unsaved = time.monotonic(), False
                else:
                    self._keyword_unsaved = True
                self._seen = self.guard.bump()
                self.store.handle.generation = self._seen

    def ingest(self, paths: Iterable[Path], *, prune: bool = False, force: bool = False) -> IngestReport:
        """Add, update (and with ``prune`` remove) documents; ``force`` re-checks every file's
        chunks even when its hash says it is unchanged (what ``rag doctor --repair`` needs)."""
        started = time.perf_counter()
        report = IngestReport()
        files = discover_files(paths)
        with self.writing():
            registry = _Registry(self.registry_records())
            pending: list[_Prepared] = []
            last_commit = time.monotonic()
            with self._progress() as bar:
                for path in files:
                    prepared = self._prepare(path, registry, report, bar, force=force)
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
        with self.reading():
            return self.store.all_metadata()

    def _commit(
        self, pending: list[_Prepared], registry: _Registry, report: IngestReport, *, final: bool
    ) -> None:
        with self._committing(save_keyword=final):
            self._apply_all(pending, registry, report)

    def _apply_all(self, pending: list[_Prepared], registry: _Registry, report: IngestReport) -> None:
        for prepared in pending:
            try:
                self._apply(prepared, registry, report)
            except Exception as exc:  # a store error costs this file only; a re-run completes it
                log.debug("committing %s failed", prepared.path, exc_info=True)
                report.failed.append(
                    (str(prepared.path), f"could not be written ({type(exc).__name__}: {exc})")
                )

    def _prepare(
        self, path: Path, registry: _Registry, report: IngestReport, bar: Any, *, force: bool = False
    ) -> _Prepared | None:
        """Read, chunk and embed one file (None when it is unchanged or cannot be read)."""
        doc_id = registry.doc_id_for(path)
        old = registry.docs.get(doc_id, [])
        try:
            if not is_regular_file(path):
                raise LoadError(f"cannot load {path}: not a regular file (a folder, FIFO or device): skipped")
            same_file = source_key(registry.source_of(doc_id) or path) == source_key(path)
            if same_file and not force and is_complete(old, file_sha256(path)):
                report.unchanged.append(doc_id)
                return None
            loaded = load_document(path, limits=self.limits, ocr=self.ocr)
            document = clean(replace(loaded, doc_id=doc_id, source_path=source_key(path)))
            views = {
                rid: (c, text, script)
                for c in self.chunker(document)
                for rid, text, script in embedding_views(c)
            }
            if not views:
                raise LoadError(f"cannot load {path}: no text left after cleaning")
            stored = {o.chunk_id for o in old}
            todo = [rid for rid in views if rid not in stored]
            bar.total = (bar.total or 0) + len(todo)
            bar.refresh()
            vectors = self._embed([views[rid][1] for rid in todo], bar)
        except (LoadError, OSError) as exc:
            report.failed.append((str(path), getattr(exc, "reason", None) or str(exc)))
            return None
        except RagError as exc:
            report.failed.append((str(path), str(exc)))
            return None
        except Exception as exc:  # a parser or model failing on one file costs that file only
            log.debug("preparing %s failed", path, exc_info=True)
            report.failed.append((str(path), f"{type(exc).__name__}: {exc}"))
            return None
        return _Prepared(path, document, views, dict(zip(todo, vectors, strict=True)), old)

    def _apply(self, p: _Prepared, registry: _Registry, report: IngestReport) -> None:
        """The three steps of a file's update (see the module docstring)."""
        doc, total = p.document, len(p.views)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        chunk_ids = {chunk.chunk_id for chunk, _, _ in p.views.values()}
        old_ids = {o.chunk_id for o in p.old}
        new = [rid for rid in p.views if rid not in old_ids]
        if new:
            self.store.upsert(
                new,
                [p.views[rid][0].text for rid in new],
                [
                    _chunk_metadata(
                        doc, p.views[rid][0], now, p.views[rid][2], total, self.ocr.low_confidence
                    )
                    for rid in new
                ],
                np.stack([p.vectors[rid] for rid in new]),
            )
        written = {p.views[rid][0].chunk_id: p.views[rid][0] for rid in new}
        for chunk in written.values():
            self.keyword.add(chunk.chunk_id, doc.doc_id, chunk.text_for_embedding)
        report.chunks_written += len(written)
        self._delete_records([o for o in p.old if o.chunk_id not in p.views], report, keep=chunk_ids)
        kept = [o for o in p.old if o.chunk_id in p.views]
        metadatas = [
            _chunk_metadata(
                doc, p.views[o.chunk_id][0], now, p.views[o.chunk_id][2], total, self.ocr.low_confidence
            )
            for o in kept
        ]
        self.store.update_metadata([o.chunk_id for o in kept], metadatas)
        (report.updated if p.old else report.added).append(doc.doc_id)
        registry.docs[doc.doc_id] = [
            StoredChunk(rid, "", _chunk_metadata(doc, chunk, now, script, total, self.ocr.low_confidence))
            for rid, (chunk, _, script) in p.views.items()
        ]
        registry.by_source[doc.source_path] = doc.doc_id

    def _gone(self, registry: _Registry) -> list[str]:
        """Documents whose source file no longer exists."""
        return [
            doc_id
            for doc_id in sorted(registry.docs)
            if registry.source_of(doc_id) and not os.path.lexists(registry.source_of(doc_id))
        ]

    def _prune(self, registry: _Registry, report: IngestReport) -> None:
        for doc_id in self._gone(registry):
            self._delete_records(registry.docs.pop(doc_id), report)
            report.removed.append(doc_id)

    def _embed(self, texts: list[str], bar: Any) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        batch = self.settings.embedding_batch_size
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(self.embedder.embed_passages(texts[start : start + batch]))
            bar.update(len(parts[-1]))
        return np.vstack(parts)

    @contextmanager
    def _progress(self) -> Iterator[Any]:
        from tqdm import tqdm

        with tqdm(total=0, desc="Embedding", unit="chunk", disable=not self.settings.progress) as bar:
            yield bar

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
            registry = _Registry(self.registry_records())
            with self._committing():
                for doc_id in doc_ids:
                    self._delete_records(registry.docs.get(doc_id, []), report)
        return report.chunks_deleted


def drop_collection(settings: Settings, client: Any) -> None:
    """Delete a collection and its keyword index (``rag ingest --rebuild``, the UI's rebuild), as
    a writer: readers in other processes see it go. Works whatever model built the collection."""
    guard = guard_for(settings.data_dir)
    with guard.writer(timeout=settings.write_lock_timeout, waiting=log.warning), guard.exclusive():
        guard.bump()
        try:
            if settings.collection in {getattr(c, "name", c) for c in client.list_collections()}:
                client.delete_collection(settings.collection)
            (settings.data_dir / "keyword" / f"{settings.collection}.json").unlink(missing_ok=True)
        finally:
            guard.bump()


def date_number(iso: str | None) -> int | None:
    """``2020-06-01`` -> ``20200601`` (None for no date)."""
    return int(iso.replace("-", "")) if iso and iso.replace("-", "").isdigit() else None


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


def _chunk_metadata(
    doc: Document, chunk: Chunk, added_at: str, script: str, records: int, low_confidence: float = 0.9
) -> dict[str, Any]:
    meta = {
        "chunk_id": chunk.chunk_id,
        "doc_id": doc.doc_id,
        "doc_sha256": doc.sha256,
        "doc_records": records,
        "source_path": doc.source_path,
        "title": doc.meta.title,
        "date": doc.meta.date,
        "doc_number": doc.meta.doc_number,
        "source": doc.meta.source,
        "doc_language": doc.meta.language,
        "issuer": doc.meta.issuer,
        "doc_type": doc.meta.doc_type,
        "region": doc.meta.region,
        "effective_date": doc.meta.effective_date,
        "supersedes": doc.meta.supersedes,
        "date_num": date_number(doc.meta.date),  # Chroma compares numbers only: 2020-06-01 -> 20200601
        "section": chunk.section,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "language": chunk.language,
        "script": script,
        "added_at": added_at,
    }
    if doc.ocr_lines:  # a scanned page: the lowest line confidence, and where the doubtful lines are
        meta["ocr_confidence"] = chunk_confidence(chunk.text, doc.ocr_lines)
        doubtful = doubtful_spans(chunk.text, doc.ocr_lines, low_confidence)
        meta["ocr_doubtful"] = json.dumps(doubtful) if doubtful else None
    return {k: v for k, v in meta.items() if v is not None}
