"""Dense index: a Chroma collection used through ``chromadb`` directly, vectors always supplied by us.

Chroma never embeds anything here (no embedding function: its default one would reach for the
network): writes carry precomputed vectors and the stored document is the passage text users see;
searches take a query vector. The collection metadata records the embedding model and dimension,
and a stamp that every commit changes (``bump_stamp``), so that readers elsewhere (other machines
on the same Chroma server) know when to refresh what they derive from the records.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.errors import StoreMismatchError, StoreUnreachableError

log = logging.getLogger(__name__)
STAMP_KEY = "rag_stamp"  # collection metadata: changed by every commit


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


def _new_client(
    *,
    persist_dir: Path | None,
    host: str | None,
    port: int,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if host:
        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        try:
            return chromadb.HttpClient(
                host=host, port=port, ssl=ssl, headers=dict(headers or {}), settings=chroma_settings
            )
        except Exception as exc:  # chromadb raises several types for an unreachable server
            raise StoreUnreachableError(f"cannot reach the Chroma server at {where}: {exc}") from exc
    if persist_dir is None:
        return chromadb.EphemeralClient(settings=chroma_settings)
    persist_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(persist_dir), settings=chroma_settings)


class ClientHandle:
    """A Chroma client that can be reopened, standing in for it (attributes pass through).

    An embedded client never sees what another process wrote, and its stale index fails with
    "Error finding id"; ``reopen`` replaces it by a fresh one. Everything in a process that uses
    one store holds the same handle (``make_client`` hands it out), so a reopen reaches all of
    them; ``epoch`` counts the reopens, so holders of derived objects know to rebuild them.
    Handles of a server's or an in-memory client never need reopening."""

    generation: Any = None  # the change marker its client was opened after (set by rag.index)

    def __init__(self, client: Any, *, reopen: Callable[[], Any] | None = None, remote: bool = False) -> None:
        """``remote``: a server's client, whose records other machines may change at any time."""
        self._client, self._reopen, self.epoch, self.remote = client, reopen, 0, remote

    @property
    def client(self) -> Any:
        return self._client

    @property
    def reopenable(self) -> bool:
        return self._reopen is not None

    def reopen(self) -> None:
        if self._reopen is None:
            return
        try:
            self._client.close()
        except Exception as exc:  # an already broken client: a fresh one is all we need
            log.debug("closing the old Chroma client failed: %s", exc)
        self._client = self._reopen()
        self.epoch += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


_HANDLES: dict[Path, ClientHandle] = {}
_HANDLES_LOCK = threading.Lock()


def make_client(
    *,
    persist_dir: Path | None = None,
    host: str | None = None,
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
) -> ClientHandle:
    """The process's client of an embedded persistent store (one per folder), an HTTP client of
    a Chroma server when ``host`` is set (``ssl``: HTTPS; ``headers`` go with every request, e.g.
    an auth token), or a new in-memory store when neither is given."""
    if host:
        client = _new_client(persist_dir=None, host=host, port=port, ssl=ssl, headers=headers)
        return ClientHandle(client, remote=True)
    if persist_dir is None:
        return ClientHandle(_new_client(persist_dir=None, host=None, port=port))
    folder = Path(persist_dir).resolve()
    with _HANDLES_LOCK:
        if folder not in _HANDLES:
            opener = partial(_new_client, persist_dir=folder, host=None, port=port)
            _HANDLES[folder] = ClientHandle(opener(), reopen=opener)
        return _HANDLES[folder]


def max_batch_size(client: Any) -> int:
    """The most records one write may carry (Chroma refuses larger batches)."""
    getter = getattr(client, "get_max_batch_size", None)
    try:
        return max(1, int(getter())) if getter else 5000
    except Exception:  # an old server without the endpoint
        return 5000


class ChromaStore:
    """One collection of records: id, document text, metadata and a vector of ``dimension``
    floats made by ``model_id`` (recorded in the collection's metadata and checked on open)."""

    def __init__(
        self,
        *,
        client: Any,
        collection: str,
        model_id: str,
        dimension: int,
        mismatch: Callable[[StoreMismatchError], Exception] | None = None,
    ) -> None:
        """``mismatch`` turns a model mismatch into the owner's error (default: raise it as is)."""
        self.collection_name = collection
        self._mismatch = mismatch
        self._handle = client if isinstance(client, ClientHandle) else ClientHandle(client)
        self._expected = {"embedding_model": model_id, "embedding_dim": int(dimension)}
        self._epoch = -1
        self._bind()

    @property
    def _client(self) -> Any:
        return self._handle.client

    def _bind(self) -> None:
        """(Re)open the collection on the handle's current client, creating it when absent."""
        self._check_existing(self._expected)
        self._chroma = self._handle.client.get_or_create_collection(
            name=self.collection_name,
            embedding_function=None,
            metadata=self._expected,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._epoch = self._handle.epoch
        self.batch_size = max_batch_size(self._handle.client)

    @property
    def handle(self) -> ClientHandle:
        return self._handle

    def _check_existing(self, expected: dict[str, Any]) -> None:
        names = {getattr(c, "name", c) for c in self._client.list_collections()}
        if self.collection_name not in names:
            return
        found = self._client.get_collection(self.collection_name, embedding_function=None).metadata or {}
        recorded = (found.get("embedding_model"), found.get("embedding_dim"))
        if recorded != (expected["embedding_model"], expected["embedding_dim"]):
            error = StoreMismatchError(
                self.collection_name, recorded, (expected["embedding_model"], expected["embedding_dim"])
            )
            raise (self._mismatch(error) if self._mismatch else error) from None

    @property
    def _collection(self):
        if self._epoch != self._handle.epoch:
            self._bind()
        return self._chroma

    @property
    def remote(self) -> bool:
        """True for a server's collection, which other machines may change."""
        return self._handle.remote

    def count(self) -> int:
        return self._collection.count()

    def stamp(self) -> str:
        """What the collection is now: its id and the stamp of its last commit. It changes with
        every commit from any process or machine, and when the collection is dropped and made
        again (then this store binds to the new one)."""
        try:
            found = self._client.get_collection(self.collection_name, embedding_function=None)
        except Exception as exc:  # chromadb's NotFoundError: dropped by someone else
            log.debug("collection %s not found (%s): creating it", self.collection_name, exc)
            self._bind()
            found = self._chroma
        if found.id != self._collection.id:
            self._check_existing(self._expected)
            self._chroma = found
        return f"{found.id}:{(found.metadata or {}).get(STAMP_KEY, '')}"

    def bump_stamp(self) -> str:
        """Mark the collection changed (a commit): readers comparing ``stamp()`` will refresh."""
        collection = self._client.get_collection(self.collection_name, embedding_function=None)
        metadata = dict(collection.metadata or {}) | {STAMP_KEY: uuid.uuid4().hex}
        collection.modify(metadata=metadata)
        return f"{collection.id}:{metadata[STAMP_KEY]}"

    def all_metadata(self) -> list[StoredChunk]:
        """Every record's id and metadata (no texts, no vectors): the registry of what is indexed."""
        return [
            StoredChunk(i, "", m or {})
            for got in self._pages(include=["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        ]

    def doc_ids_where(self, where: dict[str, Any]) -> set[str]:
        """The documents with a record matching a Chroma ``where`` clause (metadata only)."""
        pages = self._pages(where=where, include=["metadatas"])
        return {(m or {}).get("doc_id", "") for got in pages for m in got["metadatas"]} - {""}

    def _pages(self, **query: Any) -> Iterator[dict[str, Any]]:
        """``get`` in pages of ``batch_size`` records: one read of a whole large collection fails
        in the embedded store ("too many SQL variables", seen at 87k records)."""
        offset, page = 0, min(self.batch_size, 5000)
        while True:
            got = self._collection.get(limit=page, offset=offset, **query)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    def get(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        if not chunk_ids:
            return []
        by_id: dict[str, StoredChunk] = {}
        for part in self._batches(list(chunk_ids)):
            got = self._collection.get(ids=part, include=["documents", "metadatas"])
            by_id.update(
                (i, StoredChunk(i, d or "", m or {}))
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            )
        return [by_id[i] for i in chunk_ids if i in by_id]

    def at_positions(self, doc_id: str, positions: Sequence[int]) -> list[StoredChunk]:
        """The chunks of ``doc_id`` at ``positions`` (their order in the document), each once (a
        chunk stored as several records, one per script, has one ``chunk_id``)."""
        if not positions:
            return []
        got = self._collection.get(
            where={"$and": [{"doc_id": doc_id}, {"position": {"$in": [int(p) for p in positions]}}]},
            include=["documents", "metadatas"],
        )
        return [
            StoredChunk(i, d or "", m or {})
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            if (m or {}).get("chunk_id", i) == i
        ]

    def _batches(self, items: list) -> Iterator[list]:
        for start in range(0, len(items), self.batch_size):
            yield items[start : start + self.batch_size]

    def upsert(
        self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]], vectors: np.ndarray
    ) -> None:
        """Write records in batches under the client's maximum batch size."""
        for start in range(0, len(ids), self.batch_size):
            stop = start + self.batch_size
            self._upsert_batch(ids[start:stop], texts[start:stop], metadatas[start:stop], vectors[start:stop])

    def _upsert_batch(
        self, ids: list[str], texts: list[str], metadatas: list[dict], vectors: np.ndarray
    ) -> None:
        """One write (tests kill a process here)."""
        self._collection.upsert(ids=ids, documents=texts, metadatas=metadatas, embeddings=vectors)

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        for start in range(0, len(ids), self.batch_size):
            stop = start + self.batch_size
            self._collection.update(ids=ids[start:stop], metadatas=metadatas[start:stop])

    def delete(self, ids: Iterable[str]) -> None:
        for part in self._batches(list(ids)):
            self._collection.delete(ids=part)

    def search(
        self,
        query_vector: np.ndarray,
        *,
        k: int,
        doc_ids: set[str] | None = None,
        script: str | None = None,
        script_offsets: dict[str, float] | None = None,
        where: dict[str, Any] | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with cosine similarity, best first; optionally only one script ("zh", "en").

        ``script_offsets`` adds a per-script constant to the similarity before ranking; ``where``
        (a Chroma clause on record metadata) is searched inside, not applied to the results."""
        # No count() first (≈ 10 ms at 100k records): Chroma returns fewer than n_results when
        # the collection holds fewer, and nothing when it is empty.
        clauses: list[dict[str, Any]] = []
        if doc_ids:
            clauses.append({"doc_id": {"$in": sorted(doc_ids)}})
        if script:
            clauses.append({"script": script})
        if where:
            clauses.append(where)
        where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        got = self._collection.query(
            query_embeddings=[query_vector.tolist()],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = [
            (record_id, text, meta or {}, distance)
            for record_id, text, meta, distance in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=False
            )
            if text is not None
        ]
        offsets = script_offsets or {}
        scored = [(hit, 1.0 - hit[3] + offsets.get(hit[2].get("script", ""), 0.0)) for hit in hits]
        scored.sort(key=lambda pair: -pair[1])
        # A bilingual passage has one record per language; report the chunk once, at its best rank.
        results: dict[str, tuple[StoredChunk, float]] = {}
        for (record_id, text, meta, _), similarity in scored:
            chunk_id = meta.get("chunk_id", record_id or "")
            if chunk_id not in results:
                results[chunk_id] = (StoredChunk(chunk_id, text, meta), similarity)
        return list(results.values())


def delete_collection(client: Any, name: str) -> None:
    """Delete a collection, whatever model built it; nothing happens when there is none."""
    if name in {getattr(c, "name", c) for c in client.list_collections()}:
        client.delete_collection(name)
