"""One Assistant per knowledge base (collection), opened on first use and shared by every user of
a process: the web UI's sessions and the API's requests.

Answers read a collection while uploads, deletions and re-indexing write it: each collection has a
readers-writer lock, so questions run side by side and a write waits for them (and they for it).
Knowledge bases opened by the pool share one embedder (the first one's) and one Chroma client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rag.embedding.base import Embedder
from rag.index import open_client
from rag.locks import guard_for
from rag.pipeline import Assistant, open_knowledge_base
from rag.settings import Settings

AssistantFactory = Callable[[Settings], Assistant]


class ReadWriteLock:
    """Many readers or one writer; a waiting writer is not starved by new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class AssistantPool:
    """Assistants by collection name. ``factory`` and ``client`` are injectable (tests use a hash
    embedder over an in-memory Chroma); by default the knowledge bases open on the settings'
    Chroma, sharing the first one's embedder."""

    def __init__(
        self,
        settings: Settings,
        *,
        factory: AssistantFactory | None = None,
        client: Any = None,
    ) -> None:
        self.settings = settings.with_overrides(progress=False)
        self._factory = factory or self._open
        self._client = client
        self._embedder: Embedder | None = None
        self._assistants: dict[str, Assistant] = {}
        self._locks: dict[str, ReadWriteLock] = {}
        self._guard = threading.Lock()

    @classmethod
    def serving(cls, assistant: Assistant) -> AssistantPool:
        """A pool whose default knowledge base is ``assistant``'s; others open beside it, on its
        Chroma client and with its embedder."""
        pool = cls(assistant.settings, client=assistant.kb.store.handle)
        pool._assistants[pool.default_collection] = assistant
        pool._embedder = assistant.kb.embedder
        return pool

    def _open(self, settings: Settings) -> Assistant:
        kb = open_knowledge_base(settings, embedder=self._embedder, client=self.client)
        self._embedder = self._embedder or kb.embedder
        return Assistant(settings, kb=kb)

    @property
    def default_collection(self) -> str:
        return self.settings.collection

    def settings_for(self, collection: str) -> Settings:
        """The settings with ``collection``; a bad name raises ConfigError naming it."""
        return self.settings.with_overrides(collection=collection)

    def get(self, collection: str) -> Assistant:
        settings = self.settings_for(collection)
        with self._guard:
            if collection not in self._assistants:
                self._assistants[collection] = self._factory(settings)
            return self._assistants[collection]

    @property
    def default(self) -> Assistant:
        return self.get(self.default_collection)

    def forget(self, collection: str) -> None:
        """Drop the cached Assistant (after its collection was deleted and rebuilt)."""
        with self._guard:
            self._assistants.pop(collection, None)

    def lock(self, collection: str) -> ReadWriteLock:
        with self._guard:
            return self._locks.setdefault(collection, ReadWriteLock())

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    def collections(self) -> list[str]:
        """Existing collections, the configured one first (listed even before it is created)."""
        with guard_for(self.settings.data_dir).shared():  # never beside a reopen or a commit
            names = {getattr(c, "name", c) for c in self.client.list_collections()}
        return [self.default_collection] + sorted(names - {self.default_collection})
