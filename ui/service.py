"""The UI's view of the assistant pool (``rag.pool``, shared with the API): creating a knowledge
base with bilingual messages, and where its uploads go. No gradio here: the handlers turn the
errors raised below into messages.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import ConfigError
from rag.pool import AssistantFactory, ReadWriteLock
from rag.pool import AssistantPool as _Pool
from ui import strings

__all__ = ["AssistantFactory", "AssistantPool", "ReadWriteLock"]


class AssistantPool(_Pool):
    """``rag.pool.AssistantPool`` with what the knowledge-base tab adds."""

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
