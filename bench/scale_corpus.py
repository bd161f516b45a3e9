"""The scale benchmark's corpus and its stand-in embedder (see bench/scale.py).

Corpus: the paragraphs of CMRC 2018 trial and DRCD dev (../shared/datasets; ≈1,250 Chinese
Wikipedia paragraphs, simplified and traditional), cut into passages of whole sentences of
≈ 200–400 characters. Passage ``i`` beyond the originals is a deterministic variation of original
``i mod B``: its sentences rotated by ``i // B``, every digit shifted by ``i // B`` (so numbers
differ), and one sentence of another original (``i * 7919 mod B``) appended — real vocabulary and
sentence statistics, no two passages alike. Documents are ``--per-doc`` passages each, one
``.txt`` a document, separated by blank lines.

Stand-in embedder: hashed character bigrams projected to 384 dimensions (the builtin model's),
L2-normalised — cheap and deterministic, for measuring the store, never retrieval quality.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
SOURCES = (DATASETS / "cmrc2018" / "cmrc2018_trial.json", DATASETS / "drcd" / "DRCD_dev.json")
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+|[^。！？!?]+$")


def _squad(path: Path) -> tuple[list[str], list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraphs.append(paragraph["context"])
            questions.extend(qa["question"] for qa in paragraph["qas"])
    return paragraphs, questions


def base_passages() -> list[list[str]]:
    """The originals: each a list of sentences, ≈ 200–400 characters together."""
    passages: list[list[str]] = []
    for path in SOURCES:
        for paragraph in _squad(path)[0]:
            current: list[str] = []
            for sentence in (s.strip() for s in _SENTENCE.findall(paragraph)):
                if not sentence:
                    continue
                current.append(sentence)
                if sum(map(len, current)) >= 200:
                    passages.append(current)
                    current = []
            if current and sum(map(len, current)) >= 40:
                passages.append(current)
    return [p for p in passages if sum(map(len, p)) <= 400]  # ≈ one 300-character chunk each


def questions(limit: int) -> list[str]:
    found: list[str] = []
    for path in SOURCES:
        found.extend(_squad(path)[1])
    step = max(1, len(found) // limit)
    return found[::step][:limit]


def passage(base: list[list[str]], i: int) -> list[str]:
    """Passage ``i`` as sentences (see the module docstring)."""
    b = len(base)
    original = base[i % b]
    turn = i // b
    if not turn:
        return list(original)
    rotated = original[turn % len(original) :] + original[: turn % len(original)]
    shift = str.maketrans({str(d): str((d + turn) % 10) for d in range(10)})
    extra = base[(i * 7919) % b][0]
    return [s.translate(shift) for s in rotated] + [extra]


def passages(n: int) -> list[str]:
    base = base_passages()
    return ["".join(passage(base, i)) for i in range(n)]


def write_documents(folder: Path, n: int, per_doc: int) -> int:
    """``n`` passages as documents of ``per_doc`` passages; returns the number of files. Files
    already there with the same content are left alone (re-runs reuse them)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = passages(n)
    names = set()
    for start in range(0, n, per_doc):
        name = f"doc{start // per_doc:06d}.txt"
        names.add(name)
        data = "\n\n".join(texts[start : start + per_doc]).encode("utf-8") + b"\n"
        path = folder / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in folder.glob("*.txt"):
        if stale.name not in names:
            stale.unlink()
    return len(names)


class StandInEmbedder:
    """Hashed character bigrams → 384 floats (a fixed random projection of 4096 hash buckets)."""

    model_id = "bench:hashed-bigrams-384"
    dimension = 384

    def __init__(self) -> None:
        rng = np.random.default_rng(12)
        self._projection = rng.standard_normal((4096, self.dimension)).astype(np.float32)

    def _buckets(self, text: str) -> np.ndarray:
        data = text.encode("utf-8")
        digest = hashlib.blake2b(data, digest_size=8).digest()  # keeps empty texts distinct
        codes = np.frombuffer(data + digest, dtype=np.uint8).astype(np.uint32)
        pairs = codes[:-1] * 257 + codes[1:]
        return (pairs * 2654435761 % 4096).astype(np.int64)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            vector = self._projection[self._buckets(text)].sum(axis=0)
            out[row] = vector / (np.linalg.norm(vector) or 1.0)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]
