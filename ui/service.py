"""One Assistant per knowledge base (collection), opened on first use and shared by all sessions.

Answers read a collection while uploads, deletions and re-indexing write it: each collection has a
readers-writer lock, so questions run side by side and a write waits for them (and they for it).
No gradio here: the handlers turn the errors raised below into messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.pipeline import Assistant
from rag.settings import Settings
from ui import strings

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


def default_client(settings: Settings) -> Any:
    from rag.index import open_client

    return open_client(settings)


class AssistantPool:
    """Assistants by collection name. ``factory`` and ``client`` are injectable (tests use a hash
    embedder over an in-memory Chroma); by default they come from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        factory: AssistantFactory | None = None,
        client: Any = None,
    ) -> None:
        self.settings = settings.with_overrides(progress=False)
        self._factory = factory or Assistant.from_settings
        self._client = client
        self._assistants: dict[str, Assistant] = {}
        self._locks: dict[str, ReadWriteLock] = {}
        self._guard = threading.Lock()

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
            self._client = default_client(self.settings)
        return self._client

    def collections(self) -> list[str]:
        """Existing collections, the configured one first (listed even before it is created)."""
        names = {getattr(c, "name", c) for c in self.client.list_collections()}
        return [self.default_collection] + sorted(names - {self.default_collection})

    def create(self, name: str) -> str:
        name = (name or "").strip()
        if not name:
            raise ConfigError(strings.NAME_EMPTY)
        try:
            self.settings_for(name)
        except ConfigError:
            raise ConfigError(strings.name_invalid(name)) from None
        if name in self.collections():
            raise ConfigError(strings.name_exists(name))
        try:
            self.get(name)  # opening the knowledge base creates its collection
        except ValueError as exc:  # Chroma's own naming rules (length, characters at the ends)
            raise ConfigError(f"{strings.name_invalid(name)} ({exc})") from None
        return name

    def uploads_dir(self, collection: str) -> Path:
        return self.settings.data_dir / "uploads" / self.settings_for(collection).collection
