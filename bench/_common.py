"""Helpers shared by the benchmark scripts: machine facts, bench corpora, collections, result files."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
# Source files whose changes make a built bench index stale: the dense part (chunking, cleaning,
# vectors) and the keyword part (tokenising), which is rebuilt from Chroma without re-embedding.
DENSE_SOURCES = ("rag/chunk.py", "rag/clean.py", "rag/load.py", "rag/textnorm.py", "rag/index.py")
KEYWORD_SOURCES = (
    "vectorstore/keyword.py", "rag/terms.py", "rag/stopwords.txt", "rag/glossary.py", "data/glossary/zh_en.tsv",
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def safe_stem(doc_id: str) -> str:
    """A file stem that survives every file system; ids with other characters get a short hash."""
    stem = _UNSAFE.sub("_", doc_id).lstrip("-_") or "doc"
    if stem != doc_id:
        stem = f"{stem}_{hashlib.sha1(doc_id.encode()).hexdigest()[:8]}"
    return stem


def write_corpus(folder: Path, texts: dict[str, str]) -> dict[str, str]:
    """Write one ``<stem>.txt`` per document (only when changed); returns stem -> original id."""
    folder.mkdir(parents=True, exist_ok=True)
    stems: dict[str, str] = {}
    for doc_id, text in texts.items():
        stem = safe_stem(doc_id)
        if stem in stems:
            raise ValueError(f"two documents map to the file name {stem}.txt: {stems[stem]}, {doc_id}")
        stems[stem] = doc_id
        path = folder / f"{stem}.txt"
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in folder.glob("*.txt"):
        if stale.stem not in stems:
            stale.unlink()
    return stems


def _sources_sha256(names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in names:
        path = REPO / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def index_fingerprint(settings: Any) -> dict[str, Any]:
    """What a built collection depends on besides the corpus files themselves."""
    dense = {
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "sources_sha256": _sources_sha256(DENSE_SOURCES),
    }
    return {"dense": dense, "keyword": _sources_sha256(KEYWORD_SOURCES)}


def stale_parts(settings: Any, stamp_dir: Path) -> set[str]:
    """Which parts of the collection ("dense", "keyword") were built by other settings or code."""
    stamp = stamp_dir / f"{settings.collection}.json"
    recorded = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else {}
    current = index_fingerprint(settings)
    return {part for part in current if recorded.get(part) != current[part]}


def drop_collection(client: Any, settings: Any, *, keyword_only: bool = False) -> None:
    """Delete a collection's Chroma data and keyword index, or the keyword index alone (opening
    the knowledge base afterwards rebuilds it from Chroma)."""
    from rag.index import keyword_path
    from vectorstore.chroma_store import delete_collection

    if not keyword_only:
        delete_collection(client, settings.collection)
    keyword_path(settings).unlink(missing_ok=True)


def record_index(settings: Any, stamp_dir: Path) -> None:
    stamp_dir.mkdir(parents=True, exist_ok=True)
    stamp = stamp_dir / f"{settings.collection}.json"
    stamp.write_text(json.dumps(index_fingerprint(settings), indent=2), encoding="utf-8")


def settings_record(settings: Any) -> dict[str, Any]:
    """The settings as JSON values (paths as strings)."""
    from dataclasses import asdict

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        return [plain(v) for v in value] if isinstance(value, tuple | list) else value

    secret = {"chroma_token"}
    return {name: plain(value) for name, value in asdict(settings).items() if name not in secret}


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
