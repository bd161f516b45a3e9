"""The records every eval dataset becomes (EvalItem, Dataset), and the readers the format adapters
share: each malformed input is one ConfigError naming the file, the line or record, and the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

LANGS = ("zh-Hans", "zh-Hant", "en")
_REQUIRED = object()
_KIND_NAMES = {str: "a string", list: "a list", dict: "an object", bool: "true or false", int: "a number"}


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    lang: str
    doc: str | None
    evidence: tuple[str, ...]
    answer: tuple[tuple[str, ...], ...]
    answerable: bool
    tags: tuple[str, ...] = ()
    squad_answers: tuple[str, ...] = ()  # gold spans, for exact match / token F1
    # Retrieval sets (BEIR): every relevant document; relevance is judged per document, not by
    # evidence strings, and only retrieval is scored.
    relevant_docs: tuple[str, ...] = ()
    # A document-facts filter the question is asked with (rag/filters.py): "type=通知; since=2020".
    filter: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    items: list[EvalItem]
    corpus: list[Path] | None  # None: the configured corpus (the bundled one by default)
    source: str = ""
    notes: list[str] = field(default_factory=list)
    retrieval_only: bool = False  # BEIR-style sets: no answers, only retrieval metrics


def read_json(path: Path) -> Any:
    """A whole-file JSON document (SQuAD-style); errors name the file, line and column."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from exc


def read_jsonl(path: Path) -> list[tuple[str, Any]]:
    """``(where, record)`` per non-empty line, ``where`` being ``FILE:LINE``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
    return rows


def get_field(record: Any, name: str, kind: type | tuple[type, ...], where: str, *, default: Any = _REQUIRED):
    """``record[name]`` checked to be of ``kind``; a missing optional field gives ``default``."""
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: expected a JSON object; got {_type_name(record)}")
    if name not in record or record[name] is None:
        if default is _REQUIRED:
            raise ConfigError(f"{where}: missing field {name!r}")
        return default
    value = record[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise ConfigError(f"{where}: field {name!r} must be {wanted}; got {_type_name(value)}")
    return value


def get_text(record: Any, name: str, where: str, *, number_ok: bool = False) -> str:
    """A required string field that is not blank (``number_ok``: ids given as numbers become text)."""
    value = get_field(record, name, (str, int) if number_ok else str, where)
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{where}: field {name!r} is empty")
    return text


def _type_name(value: Any) -> str:
    names = {str: "a string", list: "a list", dict: "an object", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def safe_id(raw: str) -> str:
    """A document id usable as a file stem (the knowledge base's document id)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)


def write_corpus(corpus_dir: Path, documents: dict[str, str]) -> None:
    """One ``<doc id>.txt`` per document; unchanged files are left alone (ingest skips them) and
    files of documents no longer in the set are removed, so the folder holds exactly the set."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for doc_id, text in documents.items():
        target = corpus_dir / f"{doc_id}.txt"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    for stale in corpus_dir.glob("*.txt"):
        if stale.stem not in documents:
            stale.unlink()


def script_of(text: str) -> str:
    from rag.textnorm import detect_language

    return detect_language(text)
