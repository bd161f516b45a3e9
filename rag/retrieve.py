"""Retrieve stage: dense and keyword search fused by weighted reciprocal rank fusion.

Plain RRF trusts both lists equally. With an English question over Chinese passages, the keyword
list holds only incidental matches (a number, a stray Latin word) and drags good dense hits down.
Each keyword hit is therefore weighted by its coverage: the IDF-weighted share of the question's
terms it contains. A hit that matches the question's rare terms counts fully, an incidental one
barely at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from rag.filters import Filter
from rag.index import KnowledgeBase
from rag.settings import RETRIEVAL_MODES
from rag.textnorm import detect_language
from rag.types import Passage
from rag.widen import widened
from vectorstore.chroma_store import StoredChunk


@dataclass
class RetrievalResult:
    passages: list[Passage]
    timings: dict[str, float]


class Retriever:
    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        mode: str = "hybrid",
        candidates: int = 30,
        rrf_k: int = 60,
        cross_lingual_offset: float = 0.08,
    ) -> None:
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"mode must be one of {RETRIEVAL_MODES}; got {mode!r}")
        if candidates < 1 or rrf_k < 1:
            raise ValueError(f"candidates and rrf_k must be positive; got {candidates}, {rrf_k}")
        if not 0 <= cross_lingual_offset < 0.5:
            raise ValueError(f"cross_lingual_offset must be within [0, 0.5); got {cross_lingual_offset}")
        self.kb, self.mode, self.candidates, self.rrf_k = kb, mode, candidates, rrf_k
        self.cross_lingual_offset = cross_lingual_offset
        self._filter_cache: dict[str, tuple[tuple, set[str]]] = {}

    def retrieve(
        self,
        question: str,
        *,
        k: int = 5,
        mode: str | None = None,
        doc_ids: set[str] | None = None,
        where: Filter | None = None,
    ) -> RetrievalResult:
        """The ``k`` best passages; ``doc_ids`` and ``where`` (document metadata) restrict both
        rankings before they are cut: Chroma searches inside the where clause, the keyword index
        inside the documents that match it."""
        mode = mode or self.mode
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"mode must be one of {RETRIEVAL_MODES}; got {mode!r}")
        if k < 1:
            raise ValueError(f"k must be at least 1; got {k}")
        pool = max(self.candidates, k)
        timings: dict[str, float] = {}
        clause = where.chroma_where() if where is not None else None
        if clause is not None:
            matching = self._matching_documents(clause)
            doc_ids = matching if doc_ids is None else set(doc_ids) & matching
            if not doc_ids:
                return RetrievalResult([], timings)
        dense: list[tuple[StoredChunk, float]] = []
        keyword: list[tuple[str, float, float]] = []
        if mode in ("hybrid", "dense"):
            started = time.perf_counter()
            vector = self.kb.embedder.embed_query(question)
            timings["embed_query"] = time.perf_counter() - started
            started = time.perf_counter()
            dense = self._dense(vector, question, pool, doc_ids, clause)
            timings["dense"] = time.perf_counter() - started
        if mode in ("hybrid", "keyword"):
            started = time.perf_counter()
            keyword = self.kb.keyword.search(question, k=pool, doc_ids=doc_ids)
            timings["keyword"] = time.perf_counter() - started
        started = time.perf_counter()
        passages = self._fuse(dense, keyword, k)
        timings["fuse"] = time.perf_counter() - started
        return RetrievalResult(passages, timings)

    def _matching_documents(self, clause: dict) -> set[str]:
        """The documents inside a where clause, cached until the index changes."""
        key = json.dumps(clause, sort_keys=True, ensure_ascii=False)
        state = (self.kb.store.count(), getattr(self.kb, "_seen", None))
        cached = self._filter_cache.get(key)
        if cached is None or cached[0] != state:
            if len(self._filter_cache) > 64:
                self._filter_cache.clear()
            cached = self._filter_cache[key] = (state, self.kb.store.doc_ids_where(clause))
        return set(cached[1])

    def _dense(
        self, vector, question: str, pool: int, doc_ids: set[str] | None, where: dict | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """One dense ranking; for an English question, Chinese passages get ``cross_lingual_offset``.

        Same-language passages get systematically higher cosines than translations, so an English
        question would never reach a Chinese-only passage past English text (the English halves of
        bilingual documents, stray English paragraphs). The offset runs one way only: given to
        English passages for Chinese questions it lifts stray Latin fragments of Chinese corpora
        (bench/retrieval.py: cmrc dense hit@5 0.973 -> 0.943 at 0.08). The other script is also
        searched on its own so that enough of its passages reach the pool.
        """
        other = "zh" if detect_language(question) == "en" else "en"
        offsets = {"zh": self.cross_lingual_offset} if other == "zh" else {}
        merged = {
            chunk.chunk_id: (chunk, sim)
            for chunk, sim in self.kb.store.search(
                vector, k=pool, doc_ids=doc_ids, script=other, script_offsets=offsets, where=where
            )
        }
        for chunk, sim in self.kb.store.search(
            vector, k=pool, doc_ids=doc_ids, script_offsets=offsets, where=where
        ):
            if chunk.chunk_id not in merged or sim > merged[chunk.chunk_id][1]:
                merged[chunk.chunk_id] = (chunk, sim)
        return sorted(merged.values(), key=lambda pair: -pair[1])[:pool]

    def _fuse(
        self,
        dense: list[tuple[StoredChunk, float]],
        keyword: list[tuple[str, float, float]],
        k: int,
    ) -> list[Passage]:
        scores: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        similarity = {chunk.chunk_id: sim for chunk, sim in dense}
        keyword_rank: dict[str, int] = {}
        for rank, (chunk, _similarity) in enumerate(dense, start=1):
            dense_rank[chunk.chunk_id] = rank
            scores[chunk.chunk_id] = 1.0 / (self.rrf_k + rank)
        only_keyword = not dense
        for rank, (chunk_id, _bm25, coverage) in enumerate(keyword, start=1):
            keyword_rank[chunk_id] = rank
            weight = 1.0 if only_keyword else coverage**2
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (self.rrf_k + rank)
        best = sorted(scores, key=lambda c: (-scores[c], c))[:k]
        stored = {c.chunk_id: c for c, _ in dense}
        missing = [c for c in best if c not in stored]
        stored.update({c.chunk_id: c for c in self.kb.store.get(missing)})
        return [
            _passage(stored[c], scores[c], similarity.get(c), dense_rank.get(c), keyword_rank.get(c))
            for c in best
            if c in stored
        ]


def widen(kb: KnowledgeBase, passage: Passage) -> Passage:
    """``passage`` joined with the chunks before and after it in its document (``rag.widen``);
    one store read. A passage stored before chunks had positions is returned as it is."""
    if passage.position is None:
        return passage
    positions = [p for p in (passage.position - 1, passage.position + 1) if p >= 0]
    neighbours = [stored_passage(c) for c in kb.store.at_positions(passage.doc_id, positions)]
    return widened(passage, neighbours)


def stored_passage(chunk: StoredChunk) -> Passage:
    """A stored chunk as a Passage (no retrieval scores), e.g. to show a cited passage in full."""
    return _passage(chunk, 0.0, None, None, None)


def _passage(
    chunk: StoredChunk,
    score: float,
    similarity: float | None,
    dense_rank: int | None,
    keyword_rank: int | None,
) -> Passage:
    meta = chunk.metadata
    return Passage(
        chunk_id=chunk.chunk_id,
        doc_id=meta.get("doc_id", ""),
        text=chunk.text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        section=meta.get("section", ""),
        title=meta.get("title"),
        date=meta.get("date"),
        doc_number=meta.get("doc_number"),
        source_path=meta.get("source_path", ""),
        issuer=meta.get("issuer"),
        doc_type=meta.get("doc_type"),
        region=meta.get("region"),
        score=score,
        dense_similarity=similarity,
        dense_rank=dense_rank,
        keyword_rank=keyword_rank,
        ocr_confidence=meta.get("ocr_confidence"),
        doubtful=_doubtful(meta.get("ocr_doubtful")),
        position=_position(meta.get("position")),
    )


def _position(stored: object) -> int | None:
    return stored if isinstance(stored, int) else None


def _doubtful(stored: str | None) -> tuple[tuple[int, int, float], ...]:
    """The doubtful OCR lines a chunk's metadata lists (a JSON list of [start, end, confidence])."""
    try:
        return tuple((int(s), int(e), float(c)) for s, e, c in json.loads(stored)) if stored else ()
    except (ValueError, TypeError):
        return ()
