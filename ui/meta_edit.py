"""Document metadata edited in the knowledge-base tab. No gradio here.

The fields shown are read from the document's stored records. Saving writes the changed ones to
the sidecar beside the source file (``name.meta.toml``, :mod:`rag.sidecar`) and ingests that one
file again: the sidecar is part of the file's state, so the file is re-read and re-chunked, but
chunk ids depend on the text alone, so every vector is kept and only the records' metadata is
rewritten (nothing is embedded). A sidecar that fails to apply is put back as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rag.sidecar import sidecar_of, write_sidecar
from ui import strings
from ui.service import AssistantPool

FIELDS = tuple(strings.META_FIELDS)


def stored_metadata(pool: AssistantPool, collection: str, doc_id: str) -> dict[str, str]:
    """The editable fields of ``doc_id`` as stored (empty strings for what it has none of), and
    its ``source_path``."""
    if not doc_id:
        raise ValueError(strings.SELECT_TO_EDIT)
    records = pool.get(collection).kb.registry().get(doc_id)
    if not records:
        raise ValueError(strings.no_such_documents([doc_id]))
    meta = records[0].metadata
    values = {key: str(meta.get(key) or "") for key in FIELDS}
    return values | {"source_path": str(meta.get("source_path") or "")}


def save_metadata(pool: AssistantPool, collection: str, doc_id: str, values: Mapping[str, str]) -> str:
    """Write the fields of ``values`` that differ from the stored ones to the sidecar and apply
    them; the message to show. ValueError (a message in both languages) when nothing could be
    saved."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown metadata fields {unknown!r}; known: {', '.join(FIELDS)}")
    with pool.lock(collection).write():
        stored = stored_metadata(pool, collection, doc_id)
        source = Path(stored["source_path"])
        if not stored["source_path"] or not source.is_file():
            raise ValueError(strings.source_gone(doc_id))
        changes = {k: (v or "").strip() for k, v in values.items() if (v or "").strip() != stored[k]}
        if not changes:
            return strings.META_UNCHANGED
        sidecar = sidecar_of(source)
        before = sidecar.read_bytes() if sidecar.is_file() else None
        try:
            write_sidecar(source, changes)
        except (ValueError, OSError) as exc:
            raise ValueError(strings.metadata_refused(exc)) from None
        report = pool.get(collection).kb.ingest([source])
        if report.failed:
            _restore(sidecar, before)
            pool.get(collection).kb.ingest([source])
            raise ValueError(strings.metadata_refused("; ".join(reason for _, reason in report.failed)))
    title = changes.get("title") or stored["title"] or doc_id
    return strings.metadata_saved(title, str(sidecar), sorted(changes), report.chunks_written)


def _restore(sidecar: Path, before: bytes | None) -> None:
    if before is None:
        sidecar.unlink(missing_ok=True)
    else:
        sidecar.write_bytes(before)
