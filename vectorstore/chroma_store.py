"""Dense index: a Chroma collection opened through langchain-chroma, vectors always supplied by us.

Chroma never embeds anything here (its default embedding function would reach for the network):
writes carry precomputed vectors of each chunk's ``text_for_embedding`` and the stored document is
the passage text users see. The collection metadata records the embedding model and dimension.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.base import Embedder
from rag.errors import IndexMismatchError, RagError

log = logging.getLogger(__name__)


class _LangChainEmbeddings:
    """Adapts our Embedder to LangChain's ``Embeddings`` interface (used for queries)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


def make_client(*, persist_dir: Path | None = None, host: str | None = None, port: int = 8000):
    """An embedded persistent client, or an HTTP client for a Chroma server when ``host`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if host:
        try:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises several types for an unreachable server
            raise RagError(f"cannot reach the Chroma server at {host}:{port}: {exc}") from exc
    if persist_dir is None:
        return chromadb.EphemeralClient(settings=chroma_settings)
    persist_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(persist_dir), settings=chroma_settings)


class ChromaStore:
    def __init__(self, *, client: Any, collection: str, embedder: Embedder) -> None:
        from langchain_chroma import Chroma

        self.embedder = embedder
        self.collection_name = collection
        self._client = client
        expected = {"embedding_model": embedder.model_id, "embedding_dim": int(embedder.dimension)}
        self._check_existing(expected)
        self._vs = Chroma(
            client=client,
            collection_name=collection,
            embedding_function=_LangChainEmbeddings(embedder),
            collection_metadata=expected,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def _check_existing(self, expected: dict[str, Any]) -> None:
        names = {getattr(c, "name", c) for c in self._client.list_collections()}
        if self.collection_name not in names:
            return
        found = self._client.get_collection(self.collection_name, embedding_function=None).metadata or {}
        recorded = (found.get("embedding_model"), found.get("embedding_dim"))
        if recorded != (expected["embedding_model"], expected["embedding_dim"]):
            raise IndexMismatchError(
                f"knowledge base '{self.collection_name}' was built with embedding model "
                f"{recorded[0]} (dimension {recorded[1]}), but the configured model is "
                f"{expected['embedding_model']} (dimension {expected['embedding_dim']}); "
                f"re-index with `rag ingest --rebuild` or configure the original model"
            )

    @property
    def _collection(self):
        return self._vs._collection

    def count(self) -> int:
        return self._collection.count()

    def all_metadata(self) -> list[StoredChunk]:
        """Every chunk's id and metadata (no texts, no vectors): the registry of what is indexed."""
        got = self._collection.get(include=["metadatas"])
        return [StoredChunk(i, "", m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)]

    def get(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        if not chunk_ids:
            return []
        got = self._collection.get(ids=list(chunk_ids), include=["documents", "metadatas"])
        by_id = {
            i: StoredChunk(i, d or "", m or {})
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in chunk_ids if i in by_id]

    def upsert(
        self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]], vectors: np.ndarray
    ) -> None:
        if ids:
            self._collection.upsert(ids=ids, documents=texts, metadatas=metadatas, embeddings=vectors)

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        if ids:
            self._collection.update(ids=ids, metadatas=metadatas)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 5000):
            self._vs.delete(ids=ids[start : start + 5000])

    def search(
        self,
        query_vector: np.ndarray,
        *,
        k: int,
        doc_ids: set[str] | None = None,
        script: str | None = None,
        script_offsets: dict[str, float] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with cosine similarity, best first; optionally only one script ("zh", "en").

        ``script_offsets`` adds a per-script constant to the similarity before ranking."""
        if self.count() == 0:
            return []
        clauses: list[dict[str, Any]] = []
        if doc_ids:
            clauses.append({"doc_id": {"$in": sorted(doc_ids)}})
        if script:
            clauses.append({"script": script})
        where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        hits = self._vs.similarity_search_by_vector_with_relevance_scores(
            query_vector.tolist(), k=min(k, self.count()), filter=where
        )
        offsets = script_offsets or {}
        scored = [
            (doc, 1.0 - distance + offsets.get(doc.metadata.get("script", ""), 0.0)) for doc, distance in hits
        ]
        scored.sort(key=lambda pair: -pair[1])
        # A bilingual passage has one record per language; report the chunk once, at its best rank.
        results: dict[str, tuple[StoredChunk, float]] = {}
        for doc, similarity in scored:
            chunk_id = doc.metadata.get("chunk_id", doc.id or "")
            if chunk_id not in results:
                results[chunk_id] = (StoredChunk(chunk_id, doc.page_content, doc.metadata), similarity)
        return list(results.values())

    def drop(self) -> None:
        """Delete the whole collection (used by ``rag ingest --rebuild``)."""
        names = {getattr(c, "name", c) for c in self._client.list_collections()}
        if self.collection_name in names:
            self._client.delete_collection(self.collection_name)
