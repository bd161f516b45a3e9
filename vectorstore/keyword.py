"""Keyword index: BM25 over the tokens a ``Terms`` gives (``rag.terms``: jieba over simplified-
folded text, English words lower-cased); the index knows no language itself.

Built for 100k+ passages: each chunk keeps its distinct term ids and counts as two small numpy
arrays (a chunk is added, replaced or removed on its own, so the index is updated incrementally
under concurrent readers); a search compiles them once into postings sorted by term (a sparse
term × chunk matrix, rebuilt only after a change) and scores the query's postings with numpy.
Each hit reports its query-term coverage and a search can be limited to some documents — what
bm25s's build-once matrices do not offer. The index is persisted as one ``.npz`` file (term ids,
counts, and the strings joined by NUL), written atomically; the JSON file of earlier versions is
still read.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

_SEP = "\x00"
_EMPTY_IDS = np.zeros(0, dtype=np.uint32)
_EMPTY_TF = np.zeros(0, dtype=np.float32)


class Terms(Protocol):
    """What the index needs of a text layer (``rag.terms`` is one): how a text becomes tokens,
    which term sets a query asks for, and how much of them a chunk covers."""

    def tokenize(self, text: str) -> list[str]: ...

    def query_term_sets(self, query: str) -> list[list[str]]: ...

    def coverage(
        self, term_sets: list[list[str]], present: Callable[[str], bool], idf: Callable[[str], float]
    ) -> float: ...


@dataclass(frozen=True)
class _Stats:
    """One compiled snapshot: postings of term t are ``slots/tf[indptr[t]:indptr[t + 1]]``."""

    indptr: np.ndarray
    slots: np.ndarray
    tf: np.ndarray
    idf: np.ndarray  # per term id; terms no live chunk holds have df 0
    df: np.ndarray
    norm: np.ndarray  # per slot: k1 * (1 - b + b * length / avg_length)
    slot_doc: np.ndarray  # per slot: index into doc_names, -1 for a free slot
    doc_names: tuple[str, ...]
    chunks: tuple[str | None, ...]  # per slot, as compiled
    n: int

    @property
    def live_docs(self) -> frozenset[str]:
        return frozenset(self.doc_names)


class KeywordIndex:
    """BM25 (k1=1.5, b=0.75) over chunk tokens; ``save`` writes atomically, ``reload`` reads the
    file again (after another process wrote it). Statistics are compiled into one snapshot, so a
    reload or an add never changes them under a search in progress."""

    def __init__(self, path: Path, *, terms: Terms, k1: float = 1.5, b: float = 0.75) -> None:
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 > 0 and 0 <= b <= 1; got k1={k1}, b={b}")
        self.path, self.terms, self.k1, self.b = path, terms, k1, b
        self._lock = threading.Lock()  # compiling the snapshot
        self.reload()

    # --- contents -------------------------------------------------------------------------
    def _clear(self) -> None:
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        self._slot: dict[str, int] = {}  # chunk id -> slot
        self._chunk: list[str | None] = []  # slot -> chunk id (None: free)
        self._doc: list[str] = []
        self._ids: list[np.ndarray] = []  # slot -> distinct term ids
        self._tf: list[np.ndarray] = []  # slot -> their counts
        self._free: list[int] = []
        self._stats: _Stats | None = None

    def reload(self) -> None:
        self._clear()
        path = self.path if self.path.is_file() else self.path.with_suffix(".json")
        if not path.is_file():
            return
        data = path.read_bytes()
        if data[:1] == b"{":  # the JSON file of earlier versions: tokens per chunk
            legacy = json.loads(data.decode("utf-8"))
            for chunk_id, tokens in legacy["tokens"].items():
                self._put(chunk_id, legacy["doc_of"].get(chunk_id, ""), tokens)
            return
        with np.load(io.BytesIO(data), allow_pickle=False) as saved:
            sizes, ids, tf = saved["sizes"], saved["ids"], saved["tf"].astype(np.float32)
            words = _split(saved["words"], int(saved["n_words"]))
            chunks, docs = _split(saved["chunks"], len(sizes)), _split(saved["docs"], len(sizes))
        self._words, self._vocab = words, {w: i for i, w in enumerate(words)}
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for slot, (chunk_id, doc_id) in enumerate(zip(chunks, docs, strict=True)):
            start, stop = bounds[slot], bounds[slot + 1]
            self._slot[chunk_id] = slot
            self._chunk.append(chunk_id)
            self._doc.append(doc_id)
            self._ids.append(ids[start:stop])
            self._tf.append(tf[start:stop])

    def __len__(self) -> int:
        return len(self._slot)

    @property
    def chunk_ids(self) -> set[str]:
        return set(self._slot)

    def doc_of(self, chunk_id: str) -> str | None:
        slot = self._slot.get(chunk_id)
        return None if slot is None else self._doc[slot]

    @property
    def doc_ids(self) -> frozenset[str]:
        """The documents with at least one chunk indexed."""
        return self._prepare().live_docs

    def add(self, chunk_id: str, doc_id: str, text: str) -> None:
        self._put(chunk_id, doc_id, self.terms.tokenize(text))

    def _put(self, chunk_id: str, doc_id: str, tokens: Iterable[str]) -> None:
        counts = Counter(t for t in tokens if t and _SEP not in t)
        ids = np.fromiter((self._word_id(t) for t in counts), dtype=np.uint32, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        slot = self._slot.get(chunk_id)
        if slot is None:
            slot = self._free.pop() if self._free else len(self._chunk)
            if slot == len(self._chunk):
                self._chunk.append(None)
                self._doc.append("")
                self._ids.append(_EMPTY_IDS)
                self._tf.append(_EMPTY_TF)
            self._slot[chunk_id] = slot
        self._chunk[slot], self._doc[slot], self._ids[slot], self._tf[slot] = chunk_id, doc_id, ids, tf
        self._stats = None

    def _word_id(self, token: str) -> int:
        found = self._vocab.get(token)
        if found is None:
            found = self._vocab[token] = len(self._words)
            self._words.append(token)
        return found

    def remove(self, chunk_ids: list[str]) -> None:
        for chunk_id in chunk_ids:
            slot = self._slot.pop(chunk_id, None)
            if slot is None:
                continue
            self._chunk[slot], self._doc[slot] = None, ""
            self._ids[slot], self._tf[slot] = _EMPTY_IDS, _EMPTY_TF
            self._free.append(slot)
        self._stats = None

    def save(self) -> None:
        """Write the live chunks (only the terms they use) to ``path``, atomically."""
        slots = [s for s, c in enumerate(self._chunk) if c is not None]
        sizes = np.array([len(self._ids[s]) for s in slots], dtype=np.int64)
        ids = np.concatenate([self._ids[s] for s in slots]) if slots else _EMPTY_IDS
        used, compact = np.unique(ids, return_inverse=True)
        tf = np.concatenate([self._tf[s] for s in slots]) if slots else _EMPTY_TF
        arrays = {
            "words": _join(self._words[i] for i in used),
            "n_words": np.array(len(used)),
            "chunks": _join(self._chunk[s] or "" for s in slots),
            "docs": _join(self._doc[s] for s in slots),
            "sizes": sizes,
            "ids": compact.astype(np.uint32),
            "tf": np.minimum(tf, 65535).astype(np.uint16),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keyword-", suffix=".npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, self.path)
        legacy = self.path.with_suffix(".json")
        if legacy != self.path:
            legacy.unlink(missing_ok=True)  # an earlier version's file, now superseded

    # --- statistics and search ------------------------------------------------------------
    def _prepare(self) -> _Stats:
        stats = self._stats
        if stats is not None:
            return stats
        with self._lock:
            if self._stats is None:
                self._stats = self._compile()
            return self._stats

    def _compile(self) -> _Stats:
        chunks, docs = list(self._chunk), list(self._doc)
        id_parts, tf_parts = list(self._ids), list(self._tf)
        n_slots, n_words = len(chunks), len(self._words)
        sizes = np.fromiter((len(a) for a in id_parts), dtype=np.int64, count=n_slots)
        ids = np.concatenate(id_parts) if n_slots else _EMPTY_IDS
        tf = np.concatenate(tf_parts) if n_slots else _EMPTY_TF
        owner = np.repeat(np.arange(n_slots, dtype=np.int32), sizes)
        order = np.argsort(ids, kind="stable")
        df = np.bincount(ids, minlength=n_words).astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(df)])
        live = sum(1 for c in chunks if c is not None)
        length = np.bincount(owner, weights=tf, minlength=n_slots)
        avg = float(length.sum()) / max(live, 1) or 1.0
        idf = np.log(1 + (live - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1 - self.b + self.b * length / avg)
        names = tuple(sorted({d for d, c in zip(docs, chunks, strict=True) if c is not None}))
        index = {name: i for i, name in enumerate(names)}
        slot_doc = np.array([index[d] if c is not None else -1 for d, c in zip(docs, chunks, strict=True)])
        slot_doc = slot_doc.astype(np.int32)
        return _Stats(indptr, owner[order], tf[order], idf, df, norm, slot_doc, names, tuple(chunks), live)

    def idf(self, token: str) -> float:
        """IDF of a term; a term the corpus never uses is as specific as a term can be."""
        stats = self._prepare()
        word = self._vocab.get(token)
        if word is not None and word < len(stats.df) and stats.df[word] > 0:
            return float(stats.idf[word])
        return math.log(1 + (stats.n + 0.5) / 0.5)

    def known(self, token: str) -> bool:
        """True when some indexed chunk holds the term."""
        stats = self._prepare()
        word = self._vocab.get(token)
        return word is not None and word < len(stats.df) and bool(stats.df[word] > 0)

    def search(
        self, query: str, *, k: int = 10, doc_ids: set[str] | None = None
    ) -> list[tuple[str, float, float]]:
        """``(chunk_id, bm25 score, coverage)``, best first. Coverage is the IDF-weighted share of
        the query's terms found in the chunk: near 0 means the match is incidental."""
        stats = self._prepare()
        term_sets = self.terms.query_term_sets(query)
        terms = list(dict.fromkeys(t for term_set in term_sets for t in term_set))
        words = [w for w in (self._vocab.get(t) for t in terms) if w is not None and w < len(stats.df)]
        if not words or k < 1:
            return []
        slots = np.concatenate([stats.slots[stats.indptr[w] : stats.indptr[w + 1]] for w in words])
        tf = np.concatenate([stats.tf[stats.indptr[w] : stats.indptr[w + 1]] for w in words]).astype(
            np.float64
        )
        weight = np.repeat(stats.idf[words], stats.df[words])
        part = weight * tf * (self.k1 + 1) / (tf + stats.norm[slots])
        if doc_ids is not None:
            wanted = [i for i, name in enumerate(stats.doc_names) if name in doc_ids]
            keep = np.isin(stats.slot_doc[slots], wanted)
            slots, part = slots[keep], part[keep]
        if not len(slots):
            return []
        hit, inverse = np.unique(slots, return_inverse=True)
        scores = np.bincount(inverse, weights=part)
        if len(hit) > k:  # the k best, and any tied with the k-th (ties go by chunk id)
            cut = np.partition(scores, len(scores) - k)[len(scores) - k]
            hit, scores = hit[scores >= cut], scores[scores >= cut]
        chunk = stats.chunks
        pairs = zip(hit.tolist(), scores.tolist(), strict=True)
        best = sorted(pairs, key=lambda p: (-p[1], chunk[p[0]] or ""))[:k]
        idf_of = {t: self.idf(t) for t in terms}  # coverage asks for them once per hit
        idf = lambda t: idf_of[t] if t in idf_of else self.idf(t)  # noqa: E731
        return [(chunk[slot] or "", score, self._coverage(term_sets, slot, idf)) for slot, score in best]

    def _coverage(self, term_sets: list[list[str]], slot: int, idf: Callable[[str], float]) -> float:
        held, vocab = set(self._ids[slot].tolist()), self._vocab
        return self.terms.coverage(term_sets, lambda t: vocab.get(t, -1) in held, idf)


def _join(strings: Iterable[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(strings).encode("utf-8"), dtype=np.uint8)


def _split(blob: np.ndarray, count: int) -> list[str]:
    parts = blob.tobytes().decode("utf-8").split(_SEP) if count else []
    if len(parts) != count:
        raise ValueError(f"keyword index file is damaged: {len(parts)} strings where {count} were written")
    return parts
