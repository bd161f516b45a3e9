"""Knowledge base tab: uploads, ingestion, the document list, deletion, re-indexing (the metadata
editor is :mod:`ui.meta_edit`). No gradio here.

Uploaded files are kept under ``<data_dir>/uploads/<collection>/`` (re-indexing reads them again).
A file is checked (type, size) before it is copied there; a file that replaces an earlier upload
of the same name is ingested with the earlier one kept aside, and put back if the new one fails,
so a bad upload never loses what was there.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import IndexMismatchError, RagError
from rag.index import DocumentSummary
from rag.load import SUPPORTED_EXTENSIONS
from rag.sidecar import sidecar_of
from ui import strings
from ui.service import AssistantPool

Progress = Callable[[float, str], None]
UPLOAD_TYPES = sorted(SUPPORTED_EXTENSIONS)


@dataclass
class FileOutcome:
    name: str
    ok: bool
    message: str


@dataclass
class UploadReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def summary(self) -> str:
        ok = sum(o.ok for o in self.outcomes)
        lines = [strings.files_added(ok, len(self.outcomes))]
        lines += [f"{'✓' if o.ok else '✗'} {o.name}: {o.message}" for o in self.outcomes]
        return "\n".join(lines)


def safe_name(name: str) -> str:
    """A file name safe to store: no folders, no leading dot, no control characters."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/:*?\"<>|]", "_", base).lstrip(". ")
    if not Path(base).stem:
        raise ValueError(f"{strings.BAD_FILE_NAME}: {name!r}")
    return base


def is_inside(path: Path, folder: Path) -> bool:
    """``path`` is a regular file inside ``folder`` once links and ``..`` are resolved."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return resolved.is_file() and resolved.is_relative_to(folder.resolve())


def check_upload(path: Path, name: str, *, max_mb: int) -> str | None:
    """Why the file cannot be accepted, or None."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        return strings.unsupported_type(suffix, UPLOAD_TYPES)
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        return strings.too_large(size / 1024 / 1024, max_mb)
    if size == 0:
        return strings.EMPTY_FILE
    return None


def upload_files(
    pool: AssistantPool,
    collection: str,
    files: Sequence[tuple[Path, str]],
    *,
    progress: Progress = lambda fraction, text: None,
    uploaded_to: Path | None = None,
) -> UploadReport:
    """Check, store and ingest ``(temporary path, original name)`` files one by one. With
    ``uploaded_to`` (the web server's upload folder), a path outside it is refused: a request
    naming a file on the server must not get that file indexed."""
    if not files:
        raise ValueError(strings.NO_FILES)
    report = UploadReport()
    assistant = pool.get(collection)
    target_dir = pool.uploads_dir(collection)
    # Not the collection's write lock: questions go on while a big upload embeds (the knowledge
    # base keeps readers out of its short commits itself); uploads wait for each other.
    with _upload_lock(target_dir):
        for index, (path, original) in enumerate(files):
            progress(index / len(files), f"{original} ({index + 1}/{len(files)})")
            if uploaded_to is not None and not is_inside(Path(path), uploaded_to):
                report.outcomes.append(
                    FileOutcome(original, False, "拒绝：不是上传的文件 (refused: not an uploaded file)")
                )
                continue
            report.outcomes.append(_upload_one(assistant, target_dir, Path(path), original, pool))
    progress(1.0, strings.PROGRESS_DONE)
    return report


def _upload_one(assistant, target_dir: Path, path: Path, original: str, pool: AssistantPool) -> FileOutcome:
    try:
        name = safe_name(original)
    except ValueError as exc:
        return FileOutcome(original, False, str(exc))
    problem = check_upload(path, name, max_mb=pool.settings.max_upload_mb)
    if problem:
        return FileOutcome(name, False, problem)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    backup = target_dir / f".{name}.previous"
    if target.exists():
        target.replace(backup)
    shutil.copyfile(path, target)
    try:
        result = assistant.kb.ingest([target])
    except RagError as exc:
        result, error = None, str(exc)
    else:
        error = "; ".join(reason for _, reason in result.failed)
    if result is None or result.failed:
        target.unlink(missing_ok=True)
        if backup.exists():
            backup.replace(target)
        return FileOutcome(name, False, error or strings.NOT_INDEXED)
    backup.unlink(missing_ok=True)
    state = "updated" if result.updated else "unchanged" if result.unchanged else "added"
    return FileOutcome(
        name, True, f"{strings.UPLOAD_STATE[state]}, {strings.chunks_written(result.chunks_written)}"
    )


_UPLOAD_LOCKS: dict[Path, threading.Lock] = {}
_UPLOAD_LOCKS_GUARD = threading.Lock()


def _upload_lock(folder: Path) -> threading.Lock:
    with _UPLOAD_LOCKS_GUARD:
        return _UPLOAD_LOCKS.setdefault(folder.resolve(), threading.Lock())


def delete_documents(pool: AssistantPool, collection: str, doc_ids: Sequence[str]) -> str:
    """Remove documents from both indexes, and their uploaded files (or re-indexing would bring
    them back)."""
    if not doc_ids:
        raise ValueError(strings.SELECT_TO_DELETE)
    assistant = pool.get(collection)
    uploads = pool.uploads_dir(collection).resolve()
    with pool.lock(collection).write():
        known = {d.doc_id: d for d in assistant.kb.documents()}
        missing = [d for d in doc_ids if d not in known]
        if missing:
            raise ValueError(strings.no_such_documents(missing))
        chunks = assistant.kb.remove_documents(doc_ids)
        for doc_id in doc_ids:
            source = Path(known[doc_id].source_path)
            if source.is_file() and source.resolve().is_relative_to(uploads):
                source.unlink()
                sidecar_of(source).unlink(missing_ok=True)  # or a later upload of the name gets it
    return strings.deleted(len(doc_ids), chunks)


def reindex_sources(pool: AssistantPool, collection: str, docs: Sequence[DocumentSummary]) -> list[Path]:
    """What re-indexing reads: the configured corpus (for the configured collection), every
    indexed document's file that still exists, and the collection's uploads."""
    sources: list[Path] = []
    if collection == pool.default_collection:
        sources += [p for p in pool.settings.corpus if p.exists()]
    sources += [Path(d.source_path) for d in docs if d.source_path and Path(d.source_path).is_file()]
    uploads = pool.uploads_dir(collection)
    if uploads.is_dir():
        sources.append(uploads)
    return list(dict.fromkeys(sources))


def reindex(
    pool: AssistantPool,
    collection: str,
    *,
    rebuild: bool = False,
    progress: Progress = lambda fraction, text: None,
) -> str:
    """Ingest the sources again (unchanged files cost a hash) and drop documents whose files are
    gone; ``rebuild`` drops the collection first and embeds everything anew."""
    with pool.lock(collection).write():
        progress(0.05, strings.PROGRESS_READING)
        try:
            docs = pool.get(collection).kb.documents()
        except IndexMismatchError:
            if not rebuild:
                raise
            docs = []  # built with another model: its list cannot be read, rebuild from files
        sources = reindex_sources(pool, collection, docs)
        if not sources:
            raise ValueError(strings.nothing_to_index(collection))
        if rebuild:
            _drop(pool, collection)
        progress(0.2, strings.PROGRESS_INDEXING)
        report = pool.get(collection).kb.ingest(sources, prune=True)
    progress(1.0, strings.PROGRESS_DONE)
    counts = (len(report.added), len(report.updated), len(report.unchanged), len(report.removed))
    lines = [strings.reindexed(*counts, report.chunks_written, report.seconds)]
    return "\n".join(lines + [strings.skipped(path, reason) for path, reason in report.failed])


def _drop(pool: AssistantPool, collection: str) -> None:
    """Delete the collection and its keyword index (as ``rag ingest --rebuild`` does)."""
    from rag.index import drop_collection

    drop_collection(pool.settings_for(collection), pool.client)
    pool.forget(collection)
