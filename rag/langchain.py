"""LangChain adapters, so the knowledge base drops into anyone's LCEL chain.

- :class:`KnowledgeBaseRetriever`: a ``BaseRetriever`` over the hybrid retrieval (dense + BM25),
  with the same filters as ``rag search`` (document ids, mode, k). Each passage comes back as a
  ``Document`` whose metadata carries its chunk id, document id, title, date, document number,
  section path and its offsets in the cleaned document.
- :class:`AssistantRunnable`: the whole assistant (follow-up rewriting, retrieval, generation,
  citation verification) as a ``Runnable`` from a question (and the conversation so far) to the
  :class:`~rag.types.Answer` with its citations; ``stream``/``astream`` (and a streaming chain)
  yield the answer text in pieces as it is written, then the verified ``Answer``.

See ``docs/langchain.md`` for examples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, TypedDict

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, field_validator

from rag.filters import Filter
from rag.pipeline import Assistant
from rag.settings import RETRIEVAL_MODES, Settings
from rag.types import Answer, Citation, Passage, Turn


def passage_document(passage: Passage) -> Document:
    """A retrieved passage as a LangChain ``Document`` (``id`` = chunk id)."""
    metadata = {
        "chunk_id": passage.chunk_id,
        "doc_id": passage.doc_id,
        "title": passage.title,
        "date": passage.date,
        "doc_number": passage.doc_number,
        "section": passage.section,
        "start": passage.start,  # offsets of the passage in the cleaned document text
        "end": passage.end,
        "source": passage.source_path,
        "score": passage.score,
    }
    return Document(
        id=passage.chunk_id,
        page_content=passage.text,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def citation_document(citation: Citation) -> Document:
    """A citation as a ``Document`` holding the cited span (``metadata['n']`` is its marker)."""
    return Document(
        id=citation.chunk_id,
        page_content=citation.span,
        metadata={
            "n": citation.n,
            "chunk_id": citation.chunk_id,
            "doc_id": citation.doc_id,
            "title": citation.title,
            "date": citation.date,
            "section": citation.section,
            "doc_start": citation.doc_start,
            "doc_end": citation.doc_end,
        },
    )


class KnowledgeBaseRetriever(BaseRetriever):
    """Hybrid retrieval over one knowledge base. ``k``, ``mode``, ``doc_ids`` and ``where`` (a
    ``rag.filters.Filter`` on document facts) are the defaults; each call may override them:
    ``retriever.invoke(query, doc_ids=["002_…"], k=3, where=make_filter(since="2020"))``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int = 5
    mode: str | None = None  # None: the configured retrieval_mode
    doc_ids: list[str] | None = None
    where: Filter | None = None

    @field_validator("k")
    @classmethod
    def _positive(cls, k: int) -> int:
        if k < 1:
            raise ValueError(f"k must be at least 1; got {k}")
        return k

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode: str | None) -> str | None:
        if mode is not None and mode not in RETRIEVAL_MODES:
            raise ValueError(f"mode must be one of {', '.join(RETRIEVAL_MODES)}; got {mode!r}")
        return mode

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> KnowledgeBaseRetriever:
        return cls(assistant=Assistant.from_settings(settings), **options)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: Sequence[str] | None = None,
        where: Filter | None = None,
    ) -> list[Document]:
        wanted = doc_ids if doc_ids is not None else self.doc_ids
        result = self.assistant.search(
            query,
            k=k or self.k,
            mode=mode or self.mode,
            doc_ids=set(wanted) if wanted else None,
            where=where if where is not None else self.where,
        )
        return [passage_document(p) for p in result.passages]


class AssistantInput(TypedDict, total=False):
    question: str
    history: list[Any]  # Turn, (question, answer) pairs, {"question", "answer"} dicts or messages
    doc_ids: list[str]
    k: int


class AssistantRunnable(RunnableSerializable[str | AssistantInput, Answer]):
    """The assistant as a Runnable: ``str`` or :class:`AssistantInput` in, ``Answer`` out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int | None = None
    mode: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AssistantRunnable:
        return cls(assistant=Assistant.from_settings(settings), **options)

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        return str | AssistantInput

    @property
    def OutputType(self) -> type[Answer]:  # noqa: N802 - LangChain's name
        return Answer

    def invoke(
        self, input: str | AssistantInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        return self._call_with_config(self._ask, input, config, **kwargs)

    def stream(
        self, input: str | AssistantInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[str | Answer]:
        """Pieces of the answer text as they are written (an LLM's tokens, or the checked
        extractive answer sentence by sentence), then the final :class:`Answer`, last: its text
        is the verified one, which may differ from the pieces when verification changed it."""
        yield from self._transform_stream_with_config(iter([input]), self._pieces, config, **kwargs)

    def transform(
        self, input: Iterator[str | AssistantInput], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[str | Answer]:
        """Inside a streaming LCEL chain: the input arrives in pieces (joined), the output as in
        :meth:`stream`."""
        yield from self._transform_stream_with_config(input, self._pieces, config, **kwargs)

    async def astream(
        self, input: str | AssistantInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str | Answer]:
        """:meth:`stream` for asyncio: each piece is waited for in an executor thread."""
        pieces = iter(self.stream(input, config, **kwargs))
        done = object()
        while (piece := await run_in_executor(config, next, pieces, done)) is not done:
            yield piece

    def _pieces(self, inputs: Iterator[str | AssistantInput]) -> Iterator[str | Answer]:
        chunks = list(inputs)
        if not chunks:
            raise ValueError("the input needs a 'question' string; got nothing")
        whole = "".join(chunks) if all(isinstance(c, str) for c in chunks) else chunks[-1]
        arguments = self._arguments(whole)
        for event in self.assistant.ask_stream(**arguments):
            if isinstance(event, str | Answer):  # a Stage (retrieving, answering, …) is for UIs
                yield event

    def _ask(self, input: str | AssistantInput) -> Answer:
        arguments = self._arguments(input)  # a malformed input is refused before anything runs
        return self.assistant.ask(**arguments)

    def _arguments(self, input: str | AssistantInput) -> dict[str, Any]:
        data: dict[str, Any] = {"question": input} if isinstance(input, str) else dict(input)
        question = data.get("question")
        if not isinstance(question, str):
            raise ValueError(f"the input needs a 'question' string; got {type(input).__name__} {input!r:.80}")
        doc_ids = data.get("doc_ids")
        return {
            "question": question,
            "k": data.get("k") or self.k,
            "mode": self.mode,
            "doc_ids": set(doc_ids) if doc_ids else None,
            "history": to_turns(data.get("history") or []),
        }


def to_turns(history: Sequence[Any]) -> list[Turn]:
    """Earlier exchanges in any of the shapes LangChain users hold them: ``Turn``, a
    ``(question, answer)`` pair, a ``{"question", "answer"}`` dict, or alternating
    ``HumanMessage``/``AIMessage`` messages."""
    turns: list[Turn] = []
    pending: str | None = None
    for entry in history:
        if isinstance(entry, Turn):
            turns.append(entry)
        elif isinstance(entry, BaseMessage):
            if isinstance(entry, HumanMessage):
                pending = entry.text
            elif isinstance(entry, AIMessage) and pending is not None:
                turns.append(Turn(question=pending, answer=entry.text))
                pending = None
        elif isinstance(entry, dict) and {"question", "answer"} <= set(entry):
            turns.append(Turn(question=str(entry["question"]), answer=str(entry["answer"])))
        elif isinstance(entry, tuple | list) and len(entry) == 2:
            turns.append(Turn(question=str(entry[0]), answer=str(entry[1])))
        else:
            raise ValueError(f"cannot read a history entry of type {type(entry).__name__}: {entry!r:.80}")
    return turns


__all__ = [
    "AssistantInput",
    "AssistantRunnable",
    "KnowledgeBaseRetriever",
    "citation_document",
    "passage_document",
    "to_turns",
]
