"""Keyword index: BM25 over the tokens a ``Terms`` gives (``rag.terms``: jieba over simplified-
folded text, English words lower-cased); the index knows no language itself.

Tokens per chunk are persisted as JSON next to the Chroma data; the BM25 statistics are rebuilt in
memory when the index is opened (cheap next to tokenising). The scoring is our own rather than
bm25s: the index changes a chunk at a time under concurrent readers, reports each hit's query-term
coverage and filters by document, none of which bm25s's build-once sparse matrices offer.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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
    postings: dict[str, dict[str, int]]
    length: dict[str, int]
    avg_length: float
    idf: dict[str, float]
    doc_ids: frozenset[str]


class KeywordIndex:
    """BM25 (k1=1.5, b=0.75) over chunk tokens; ``save`` writes atomically, ``reload`` reads the
    file again (after another process wrote it). Statistics are computed into one snapshot, so a
    reload never changes them under a search in progress."""

    def __init__(self, path: Path, *, terms: Terms, k1: float = 1.5, b: float = 0.75) -> None:
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 > 0 and 0 <= b <= 1; got k1={k1}, b={b}")
        self.path, self.terms, self.k1, self.b = path, terms, k1, b
        self._tokens: dict[str, list[str]] = {}
        self._doc_of: dict[str, str] = {}
        self._stats: _Stats | None = None
        self.reload()

    def reload(self) -> None:
        tokens: dict[str, list[str]] = {}
        doc_of: dict[str, str] = {}
        if self.path.is_file():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tokens, doc_of = data["tokens"], data["doc_of"]
        self._tokens, self._doc_of, self._stats = tokens, doc_of, None

    def __len__(self) -> int:
        return len(self._tokens)

    @property
    def chunk_ids(self) -> set[str]:
        return set(self._tokens)

    def doc_of(self, chunk_id: str) -> str | None:
        return self._doc_of.get(chunk_id)

    @property
    def doc_ids(self) -> frozenset[str]:
        """The documents with at least one chunk indexed."""
        return self._prepare().doc_ids

    def add(self, chunk_id: str, doc_id: str, text: str) -> None:
        self._tokens[chunk_id] = self.terms.tokenize(text)
        self._doc_of[chunk_id] = doc_id
        self._stats = None

    def remove(self, chunk_ids: list[str]) -> None:
        for chunk_id in chunk_ids:
            self._tokens.pop(chunk_id, None)
            self._doc_of.pop(chunk_id, None)
        self._stats = None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"tokens": self._tokens, "doc_of": self._doc_of}, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keyword-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, self.path)

    def _prepare(self) -> _Stats:
        stats = self._stats
        if stats is not None:
            return stats
        tokens_of, doc_of = self._tokens, self._doc_of
        postings: dict[str, dict[str, int]] = {}
        length = {cid: len(toks) for cid, toks in tokens_of.items()}
        for chunk_id, tokens in tokens_of.items():
            for token, count in Counter(tokens).items():
                postings.setdefault(token, {})[chunk_id] = count
        n = max(len(tokens_of), 1)
        avg_length = sum(length.values()) / n or 1.0
        idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        stats = _Stats(postings, length, avg_length, idf, frozenset(doc_of.values()))
        self._stats = stats
        return stats

    def idf(self, token: str) -> float:
        """IDF of a term; a term the corpus never uses is as specific as a term can be."""
        stats = self._prepare()
        if token in stats.idf:
            return stats.idf[token]
        n = len(stats.length)
        return math.log(1 + (n + 0.5) / 0.5)

    def known(self, token: str) -> bool:
        """True when some indexed chunk holds the term."""
        return token in self._prepare().idf

    def search(
        self, query: str, *, k: int = 10, doc_ids: set[str] | None = None
    ) -> list[tuple[str, float, float]]:
        """``(chunk_id, bm25 score, coverage)``, best first. Coverage is the IDF-weighted share of
        the query's terms found in the chunk: near 0 means the match is incidental."""
        stats = self._prepare()
        doc_of = self._doc_of
        term_sets = self.terms.query_term_sets(query)
        terms = list(dict.fromkeys(t for term_set in term_sets for t in term_set))
        scores: dict[str, float] = {}
        matched: dict[str, set[str]] = {}
        for term in terms:
            idf = stats.idf.get(term, 0.0)
            for chunk_id, tf in stats.postings.get(term, {}).items():
                if doc_ids is not None and doc_of.get(chunk_id) not in doc_ids:
                    continue
                norm = self.k1 * (1 - self.b + self.b * stats.length[chunk_id] / stats.avg_length)
                scores[chunk_id] = scores.get(chunk_id, 0.0) + idf * tf * (self.k1 + 1) / (tf + norm)
                matched.setdefault(chunk_id, set()).add(term)
        best = sorted(scores, key=lambda c: (-scores[c], c))[:k]
        cover = self.terms.coverage
        return [(c, scores[c], cover(term_sets, matched[c].__contains__, self.idf)) for c in best]
