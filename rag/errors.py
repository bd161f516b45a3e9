"""The project's small error hierarchy. The CLI and UI print ``str(error)`` as one line."""


class RagError(Exception):
    """Base class: anything a user can fix or should be told about in one line."""


class ConfigError(RagError):
    """A setting is missing, malformed or contradicts another."""


class LoadError(RagError):
    """A file could not be read or parsed (path and reason in the message)."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model, or is missing."""


class EmbeddingError(RagError):
    """The embedding model could not be loaded or run."""


class EmptyIndexError(RagError):
    """The knowledge base holds no passages yet."""


class GeneratorError(RagError):
    """The answer generator (an LLM endpoint or a local model) failed or could not be reached."""


class ContextLengthError(GeneratorError):
    """The prompt does not fit the model's context window."""


class UnknownDocumentError(RagError):
    """A document id that names no document of the knowledge base."""


class MissingExtraError(RagError):
    """A command needs an optional part of the install (an extra such as ``[ui]``) that is absent."""
