"""The generator seam: turn a question and its retrieved passages into a cited Answer."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from rag.types import Answer, Passage


@runtime_checkable
class Generator(Protocol):
    """Optional members the pipeline uses when present: ``stream(question, passages)`` yields
    text pieces then the Answer; ``chat_model`` (a LangChain chat model) also condenses
    follow-up questions."""

    name: str

    def generate(self, question: str, passages: list[Passage]) -> Answer:
        """An Answer whose citations point into ``passages`` (timings are filled by the caller)."""
        ...
