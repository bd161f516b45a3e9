"""Ingestion's per-file work, apart from the knowledge base's storage (``rag.index``): which files
an ingest sees, a file read, cleaned, chunked and embedded into records (``prepare_file``), the
registry of what is indexed (document ids by source file), each record's metadata, and the report.
``KnowledgeBase.ingest`` commits what is prepared here (see ``rag.index`` for the protocol).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import Chunker
from rag.clean import clean
from rag.errors import LoadError, RagError
from rag.load import SUPPORTED_EXTENSIONS, LoadLimits, is_regular_file, load_document
from rag.ocr import OcrOptions, chunk_confidence, doubtful_spans
from rag.sidecar import content_hash
from rag.textnorm import is_chinese
from rag.types import Chunk, Document
from vectorstore.chroma_store import StoredChunk

log = logging.getLogger(__name__)


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

    def summary(self) -> str:
        """What ``rag ingest`` prints and the knowledge-base tab shows: counts, then each skipped file."""
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)} documents; wrote {self.chunks_written} chunks, "
            f"deleted {self.chunks_deleted} ({self.seconds:.2f}s)"
        ]
        lines += [f"skipped {path}: {reason}" for path, reason in self.failed]
        return "\n".join(lines)


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


class Registry:
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
class Prepared:
    """A file read, chunked and embedded, waiting for its commit."""

    path: Path
    document: Document
    views: dict[str, tuple[Chunk, str, str]]  # record id -> (chunk, embedded text, script)
    vectors: dict[str, np.ndarray]  # record id -> vector, for records not stored yet
    old: list[StoredChunk]


def prepare_file(
    path: Path,
    registry: Registry,
    report: IngestReport,
    *,
    chunker: Chunker,
    limits: LoadLimits,
    ocr: OcrOptions | None = None,
    embed: Callable[[list[str]], np.ndarray],
    force: bool = False,
) -> Prepared | None:
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
        loaded = load_document(path, limits=limits, ocr=ocr)
        document = clean(replace(loaded, doc_id=doc_id, source_path=source_key(path)))
        views = {
            rid: (c, text, script) for c in chunker(document) for rid, text, script in embedding_views(c)
        }
        if not views:
            raise LoadError(f"cannot load {path}: no text left after cleaning")
        stored = {o.chunk_id for o in old}
        todo = [rid for rid in views if rid not in stored]
        vectors = embed([views[rid][1] for rid in todo])
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
    return Prepared(path, document, views, dict(zip(todo, vectors, strict=True)), old)


def script_of(language: str) -> str:
    """'zh', 'en' or 'zh+en': the partition dense retrieval searches per question language."""
    if "+" in language:
        return "zh+en"
    return "zh" if language.startswith("zh") else "en"


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


def date_number(iso: str | None) -> int | None:
    """``2020-06-01`` -> ``20200601`` (None for no date)."""
    return int(iso.replace("-", "")) if iso and iso.replace("-", "").isdigit() else None


def chunk_metadata(
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


def new_records(
    p: Prepared, added_at: str, low_confidence: float
) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray | None]:
    """Step 1 of a file's update: the records its stored ones lack (ids, texts, metadata, vectors)."""
    old_ids = {o.chunk_id for o in p.old}
    new = [rid for rid in p.views if rid not in old_ids]
    total = len(p.views)
    metadatas = [
        chunk_metadata(p.document, p.views[rid][0], added_at, p.views[rid][2], total, low_confidence)
        for rid in new
    ]
    vectors = np.stack([p.vectors[rid] for rid in new]) if new else None
    return new, [p.views[rid][0].text for rid in new], metadatas, vectors


def embed_batches(embedder: Any, texts: list[str], batch: int, bar: Any) -> np.ndarray:
    """Vectors of ``texts`` in batches of ``batch``, advancing the progress bar."""
    bar.total = (bar.total or 0) + len(texts)
    bar.refresh()
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    parts = []
    for start in range(0, len(texts), batch):
        parts.append(embedder.embed_passages(texts[start : start + batch]))
        bar.update(len(parts[-1]))
    return np.vstack(parts)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """The ingest's bar: chunks embedded, with rate and ETA (tqdm)."""
    from tqdm import tqdm

    with tqdm(total=0, desc="Embedding", unit="chunk", disable=not enabled) as bar:
        yield bar
