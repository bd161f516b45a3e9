"""``rag doctor``: do the dense (Chroma) and keyword indexes hold exactly the chunks of the files
on disk? Reports what is not so, and ``repair`` fixes it through the normal ingest path.

Checked per document: its file still exists (else an orphan), its hash is the indexed one (else
stale), its last update finished (every record carries one hash and the record count), its
records are exactly the chunks its file gives today (none missing, none extra), no record is
labelled with another document, no file is indexed twice. Then the keyword index on disk against
Chroma, and the files under the given folders that are not indexed at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.clean import clean
from rag.errors import LoadError
from rag.index import KnowledgeBase
from rag.ingest import discover_files, embedding_views, file_sha256, is_complete, source_key
from rag.load import is_regular_file, load_document
from vectorstore.chroma_store import StoredChunk
from vectorstore.keyword import KeywordIndex

# what each kind of finding means, and what --repair does about it
KINDS = {
    "orphan": "its file is gone (repair: remove the document)",
    "stale": "its file changed since it was indexed (repair: re-index the file)",
    "incomplete": "its last update did not finish (repair: re-index the file)",
    "chunks": "its records are not the chunks its file gives (repair: re-index the file)",
    "unreadable": "its file cannot be read any more (repair: remove the document)",
    "duplicate": "the same file or chunk is indexed twice (repair: remove the extra copy)",
    "keyword": "the keyword index does not match the vector index (repair: rewrite it)",
    "missing": "a file under the given folders is not indexed (repair: index it)",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # a document id, a file, or "keyword index"
    detail: str

    def line(self) -> str:
        return f"✗ {self.kind} {self.subject}: {self.detail}"


@dataclass
class DoctorReport:
    collection: str
    documents: int = 0
    chunks: int = 0
    records: int = 0
    keyword_chunks: int = 0
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unindexable: list[str] = field(default_factory=list)  # files ingest refuses (and why)

    @property
    def clean(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        head = (
            f"knowledge base '{self.collection}': {self.documents} documents, {self.chunks} chunks "
            f"({self.records} vector records), keyword index {self.keyword_chunks} chunks"
        )
        out = [head, *self.repaired, *(f.line() for f in self.findings)]
        if self.unindexable:
            out.append(
                f"({len(self.unindexable)} file(s) cannot be indexed and are not counted: `rag ingest` says why)"
            )
        if self.findings:
            out.append(f"{len(self.findings)} problem(s); `rag doctor --repair` fixes them")
        else:
            out.append("clean: both indexes hold exactly the chunks of the files")
        return out

    def to_dict(self) -> dict:
        return {
            "collection": self.collection,
            "documents": self.documents,
            "chunks": self.chunks,
            "records": self.records,
            "keyword_chunks": self.keyword_chunks,
            "clean": self.clean,
            "findings": [f.__dict__ for f in self.findings],
            "repaired": self.repaired,
            "unindexable": self.unindexable,
        }


def examine(kb: KnowledgeBase, paths: Iterable[Path] = ()) -> DoctorReport:
    """What is wrong with the knowledge base, with ``paths`` (files, folders) as what should be in it."""
    with kb.reading():
        records = kb.store.all_metadata()
    report = DoctorReport(collection=kb.settings.collection)
    docs: dict[str, list[StoredChunk]] = {}
    for record in records:
        docs.setdefault(record.metadata.get("doc_id", ""), []).append(record)
    chunk_ids = {r.metadata.get("chunk_id", r.chunk_id) for r in records}
    report.documents, report.records, report.chunks = len(docs), len(records), len(chunk_ids)
    report.findings += _label_findings(records)
    sources: dict[str, list[str]] = {}
    for doc_id, doc_records in sorted(docs.items()):
        source = doc_records[0].metadata.get("source_path", "")
        sources.setdefault(source_key(source) if source else "", []).append(doc_id)
        finding = _document_finding(kb, doc_id, source, doc_records)
        if finding is not None:
            report.findings.append(finding)
    for source, ids in sorted(sources.items()):
        if source and len(ids) > 1:
            for extra in ids[1:]:
                report.findings.append(
                    Finding("duplicate", extra, f"indexes the same file as {ids[0]}: {source}")
                )
    keyword = KeywordIndex(
        kb.keyword.path, terms=kb.keyword.terms
    )  # the file as saved, not the copy synced on open
    report.keyword_chunks = len(keyword)
    report.findings += _keyword_findings(keyword, records)
    indexed = set(sources)
    for path in discover_files(paths):
        if source_key(path) in indexed or not is_regular_file(path):
            continue
        try:
            load_document(path, limits=kb.limits, ocr=kb.ocr)
        except LoadError as exc:  # a file ingest refuses is not the indexes' fault
            report.unindexable.append(f"{path}: {getattr(exc, 'reason', exc)}")
            continue
        report.findings.append(Finding("missing", str(path), KINDS["missing"].split(" (")[0]))
    return report


def _label_findings(records: list[StoredChunk]) -> list[Finding]:
    findings = []
    views = Counter(r.metadata.get("chunk_id", "") for r in records)
    for record in records:
        chunk_id, doc_id = record.metadata.get("chunk_id", ""), record.metadata.get("doc_id", "")
        if record.chunk_id not in (chunk_id, f"{chunk_id}#en") or not chunk_id.startswith(f"{doc_id}:"):
            findings.append(
                Finding("duplicate", record.chunk_id, f"record labelled as chunk {chunk_id!r} of {doc_id!r}")
            )
    for chunk_id, count in sorted(views.items()):
        if count > 2:
            findings.append(Finding("duplicate", chunk_id, f"{count} records for one chunk"))
    return findings


def _document_finding(
    kb: KnowledgeBase, doc_id: str, source: str, records: list[StoredChunk]
) -> Finding | None:
    if not source or not Path(source).exists():
        return Finding(
            "orphan", doc_id, f"{KINDS['orphan'].split(' (')[0]}: {source or '(no path recorded)'}"
        )
    try:
        digest = file_sha256(Path(source))
        if not is_complete(records):
            return Finding("incomplete", doc_id, KINDS["incomplete"].split(" (")[0])
        if not is_complete(records, digest):
            return Finding("stale", doc_id, f"{KINDS['stale'].split(' (')[0]}: {source}")
        document = load_document(Path(source), limits=kb.limits, ocr=kb.ocr)
    except (LoadError, OSError) as exc:
        return Finding("unreadable", doc_id, str(exc))
    document = clean(replace(document, doc_id=doc_id, source_path=source_key(source)))
    expected = {rid for chunk in kb.chunker(document) for rid, _, _ in embedding_views(chunk)}
    stored = {r.chunk_id for r in records}
    if expected != stored:
        return Finding(
            "chunks",
            doc_id,
            f"{len(expected - stored)} chunk record(s) missing, {len(stored - expected)} not from the file "
            "(chunked with other settings?)",
        )
    return None


def _keyword_findings(keyword: KeywordIndex, records: list[StoredChunk]) -> list[Finding]:
    dense = {r.metadata.get("chunk_id", r.chunk_id): r.metadata.get("doc_id", "") for r in records}
    missing = set(dense) - keyword.chunk_ids
    extra = keyword.chunk_ids - set(dense)
    moved = {c for c in set(dense) & keyword.chunk_ids if keyword.doc_of(c) != dense[c]}
    if not (missing or extra or moved):
        return []
    detail = f"{len(missing)} chunk(s) missing, {len(extra)} extra, {len(moved)} under another document"
    return [Finding("keyword", "keyword index", detail)]


def repair(kb: KnowledgeBase, report: DoctorReport, paths: Iterable[Path] = ()) -> DoctorReport:
    """Fix what ``examine`` found, through the same steps as an ingest; then examine again."""
    paths = list(paths)
    by_kind: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    registry = kb.registry()
    remove = [f.subject for kind in ("orphan", "unreadable") for f in by_kind.get(kind, [])]
    remove += [f.subject for f in by_kind.get("duplicate", []) if f.subject in registry]
    done: list[str] = []
    if remove:
        chunks = kb.remove_documents(remove)
        done.append(f"✓ removed {len(remove)} document(s), {chunks} chunk(s): {', '.join(sorted(remove))}")
    stray = [f.subject for f in by_kind.get("duplicate", []) if f.subject not in registry]
    if stray:
        kb.remove_records(stray)
        done.append(f"✓ removed {len(stray)} mislabelled record(s)")
    redo = [
        Path(registry[f.subject][0].metadata["source_path"])
        for kind in ("stale", "incomplete", "chunks")
        for f in by_kind.get(kind, [])
    ]
    redo += [Path(f.subject) for f in by_kind.get("missing", [])]
    if redo:
        result = kb.ingest(redo, force=True)
        done.append(
            f"✓ re-indexed {len(redo)} file(s): {len(result.added)} added, {len(result.updated)} updated, "
            f"{result.chunks_written} chunks written, {result.chunks_deleted} deleted"
        )
        done += [f"✗ {path}: {reason}" for path, reason in result.failed]
    if by_kind.get("keyword") or remove or stray or redo:
        kb.rewrite_keyword_index()
        done.append("✓ keyword index rewritten from the vector index")
    after = examine(kb, paths)
    after.repaired = done
    return after
