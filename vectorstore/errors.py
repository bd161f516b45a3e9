"""What the stores raise. They know no user messages or commands: rag/ turns these into its own
errors (``rag.errors``) where it opens a store, with the advice a user needs."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreUnreachableError(StoreError):
    """The Chroma server did not answer."""


class StoreMismatchError(StoreError):
    """The collection was built with another embedding model (``recorded``) than the one
    configured (``expected``); each is ``(model id, dimension)``."""

    def __init__(self, collection: str, recorded: tuple, expected: tuple) -> None:
        super().__init__(f"collection {collection!r} holds {recorded}, expected {expected}")
        self.collection, self.recorded, self.expected = collection, recorded, expected
