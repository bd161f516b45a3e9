"""One writer, many readers, across processes: the locks and the change marker of a data folder.

A ``rag serve`` or ``rag api`` process reads the store while a ``rag ingest`` (or an upload in
another server) writes it. Three ``flock`` files under ``<data_dir>/locks/`` keep them apart:

- ``writer.lock``, exclusive for a whole ingest: one writer at a time (the second waits, and is
  told who holds it, up to ``write_lock_timeout``).
- ``store.lock``, shared while a reader touches the store, exclusive while a writer commits a
  file's changes: a reader never sees half a commit, and commits are short (embedding happens
  before, outside the lock).
- ``intent.lock``, taken by a committing writer before ``store.lock`` and passed through by
  readers: a stream of overlapping readers cannot starve the writer.

``generation`` is rewritten (a new inode) before and after every commit; readers compare it
with what they saw, and reopen the embedded Chroma client and the keyword index when it moved
(an embedded client never sees another process's writes, and its stale index fails with "Error
finding id"). Locks go with the process (a SIGKILLed writer leaves none behind).

Within a process, every acquisition opens its own file description, so threads exclude each
other exactly like processes do; a thread-level readers-writer lock guards the in-process state
that a reopen replaces.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from rag.errors import RagError


class StoreBusyError(RagError):
    """Another process kept the knowledge base's writer lock past the timeout."""


_POLL_SECONDS = 0.05


class _ThreadRWLock:
    """Many readers or one writer among the threads of this process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    def acquire_read(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer and not self._waiting_writers)
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._waiting_writers += 1
            self._cond.wait_for(lambda: not self._writer and self._readers == 0)
            self._waiting_writers -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _flock(fd: int, operation: int, deadline: float | None) -> bool:
    """Take the lock; with a deadline, give up (False) once it passes."""
    if deadline is None:
        fcntl.flock(fd, operation)
        return True
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)


class StoreGuard:
    """The locks and change marker of one data folder (one per folder and process: see ``guard_for``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._threads = _ThreadRWLock()
        self._local = threading.local()

    # --- change marker -------------------------------------------------------------------------
    @property
    def _generation_file(self) -> Path:
        return self.folder / "generation"

    def generation(self) -> tuple[int, int]:
        """Identity of the marker's current version (cheap: one stat)."""
        try:
            info = os.stat(self._generation_file)
        except FileNotFoundError:
            return (0, 0)
        return (info.st_ino, info.st_mtime_ns)

    def bump(self) -> tuple[int, int]:
        """A new version of the marker (written aside and renamed: a new inode every time)."""
        tmp = self.folder / f".generation-{os.getpid()}-{threading.get_ident()}"
        tmp.write_text(f"{time.time_ns()}\n", encoding="ascii")
        os.replace(tmp, self._generation_file)
        return self.generation()

    # --- readers -------------------------------------------------------------------------------
    @contextmanager
    def shared(self) -> Iterator[None]:
        """Read the store: no commit runs meanwhile. Re-entrant within a thread."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        store = _open(self.folder / "store.lock")
        try:
            intent = _open(self.folder / "intent.lock")
            try:
                _flock(intent, fcntl.LOCK_SH, None)  # waits while a writer wants in
                _flock(store, fcntl.LOCK_SH, None)
            finally:
                os.close(intent)
            self._threads.acquire_read()
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                self._threads.release_read()
        finally:
            os.close(store)

    @contextmanager
    def upgraded(self) -> Iterator[None]:
        """Inside ``shared``: this process's other readers are paused (to swap the state they
        use, e.g. reopen a client). Other processes' readers are unaffected."""
        self._threads.release_read()
        self._threads.acquire_write()
        try:
            yield
        finally:
            self._threads.release_write()
            self._threads.acquire_read()

    # --- writers -------------------------------------------------------------------------------
    @contextmanager
    def writer(
        self, *, timeout: float | None = None, waiting: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Be the only writer (for a whole ingest). Waits up to ``timeout`` seconds (None: for
        ever), telling ``waiting`` once who holds the lock."""
        path = self.folder / "writer.lock"
        fd = _open(path)
        try:
            if not _flock(fd, fcntl.LOCK_EX, time.monotonic()):
                holder = _holder(path)
                if waiting is not None:
                    waiting(
                        f"another process is writing to this knowledge base ({holder}); "
                        f"waiting up to {timeout:.0f} s"
                        if timeout is not None
                        else "waiting"
                    )
                deadline = None if timeout is None else time.monotonic() + timeout
                if not _flock(fd, fcntl.LOCK_EX, deadline):
                    raise StoreBusyError(
                        f"another process is still writing to this knowledge base ({holder}) after "
                        f"{timeout:.0f} s (write_lock_timeout); try again when it has finished"
                    )
            os.ftruncate(fd, 0)
            os.pwrite(fd, _describe_self().encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Commit: no reader (in any process) is inside ``shared`` meanwhile."""
        intent = _open(self.folder / "intent.lock")
        try:
            _flock(intent, fcntl.LOCK_EX, None)
            store = _open(self.folder / "store.lock")
            try:
                _flock(store, fcntl.LOCK_EX, None)
                self._threads.acquire_write()
                try:
                    yield
                finally:
                    self._threads.release_write()
            finally:
                os.close(store)
        finally:
            os.close(intent)


def _describe_self() -> str:
    return f"pid {os.getpid()}, since {datetime.now().strftime('%H:%M:%S')}"


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "another process"


_GUARDS: dict[Path, StoreGuard] = {}
_GUARDS_LOCK = threading.Lock()


def guard_for(data_dir: Path) -> StoreGuard:
    """The process's StoreGuard for a data folder (all knowledge bases of a folder share one:
    they share its Chroma client)."""
    folder = (Path(data_dir) / "locks").resolve()
    with _GUARDS_LOCK:
        if folder not in _GUARDS:
            _GUARDS[folder] = StoreGuard(folder)
        return _GUARDS[folder]
