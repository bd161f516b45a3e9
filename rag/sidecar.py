"""Metadata a person sets: a sidecar file ``name.meta.toml`` beside ``name.pdf`` overrides what
the rules read off the text (``rag.metadata``).

```toml
title = "四川省人民政府办公厅关于印发……的通知"
issuer = "四川省人民政府办公厅"
doc_number = "川办发〔2021〕12号"
date = 2021-06-15            # a TOML date or "2021-06-15"
effective_date = 2021-07-01
doc_type = "通知"
region = "四川省"
language = "zh-Hans"
supersedes = ["川办发〔2018〕5号"]  # documents this one repeals (numbers, titles or ids)
```

The sidecar is part of the document's state: its bytes are folded into the file hash
(:func:`content_hash`), so editing it re-ingests the document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import fields, replace
from pathlib import Path

from rag.errors import LoadError
from rag.types import DocumentMeta

SUFFIX = ".meta.toml"
_DATES = ("date", "effective_date")
_KEYS = tuple(f.name for f in fields(DocumentMeta))


def sidecar_of(path: Path) -> Path:
    """``notice.pdf`` -> ``notice.meta.toml`` (same folder)."""
    path = Path(path)
    return path.with_name(path.stem + SUFFIX)


def content_hash(path: Path, data: bytes | None = None) -> str:
    """SHA-256 of the file's bytes (``data`` when already read), and of its sidecar if any."""
    digest = hashlib.sha256()
    if data is None:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        digest.update(data)
    sidecar = sidecar_of(path)
    if sidecar.is_file():
        digest.update(b"\x00rag-sidecar\x00" + sidecar.read_bytes())
    return digest.hexdigest()


def apply_sidecar(path: Path, meta: DocumentMeta) -> DocumentMeta:
    """``meta`` with the values of ``path``'s sidecar, if it has one; LoadError (naming the file,
    the key and the value) for a malformed one."""
    sidecar = sidecar_of(path)
    if not sidecar.is_file():
        return meta
    try:
        table = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LoadError(f"cannot load {sidecar}: not valid TOML ({exc})") from exc
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise LoadError(
            f"cannot load {sidecar}: unknown keys {', '.join(unknown)} (known: {', '.join(_KEYS)})"
        )
    values = {key: _value(sidecar, key, value) for key, value in table.items()}
    return replace(meta, **values)


def _value(sidecar: Path, key: str, value: object) -> str | None:
    try:
        return checked_value(key, value)
    except ValueError as exc:
        raise LoadError(f"cannot load {sidecar}: {exc}") from None


def checked_value(key: str, value: object) -> str | None:
    """The metadata value of a sidecar entry; ValueError naming the key for one it cannot be."""
    if key in _DATES:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat() if value != "" else None
        except ValueError:
            raise ValueError(f"{key} must be a date (YYYY-MM-DD); got {value!r}") from None
    if key == "supersedes" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "；".join(v.strip() for v in value if v.strip()) or None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text; got {value!r}")
    return value.strip() or None


def write_sidecar(path: Path, values: dict[str, str | None]) -> Path:
    """Set ``values`` in ``path``'s sidecar (kept keys stay; an empty value writes ``""``, which
    clears what the rules found) and return the sidecar's path. A value the sidecar would refuse
    raises ValueError naming the key, before anything is written."""
    sidecar = sidecar_of(path)
    table: dict[str, object] = {}
    if sidecar.is_file():
        try:
            table = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{sidecar} is not valid TOML ({exc})") from exc
    for key, value in values.items():
        if key not in _KEYS:
            raise ValueError(f"unknown metadata key {key!r} (known: {', '.join(_KEYS)})")
        value = (value or "").strip()
        if key == "supersedes":
            table[key] = [v.strip() for v in value.replace(";", "；").split("；") if v.strip()]
        else:
            table[key] = value
    text = "".join(f"{key} = {_toml(table[key])}\n" for key in _KEYS if key in table)
    for key, value in tomllib.loads(text).items():
        checked_value(key, value)
    sidecar.write_text(text, encoding="utf-8")
    return sidecar


def _toml(value: object) -> str:
    """A TOML value: JSON's string escapes are TOML's basic-string escapes."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)
