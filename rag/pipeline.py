"""The assistant: open the knowledge base, retrieve, generate. Built once from Settings."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from rag.embedding.base import Embedder
from rag.errors import EmptyIndexError
from rag.generate.base import Generator
from rag.generate.extractive import ExtractiveGenerator
from rag.index import IngestReport, KnowledgeBase
from rag.retrieve import RetrievalResult, Retriever
from rag.settings import Settings
from rag.types import Answer, Turn
from vectorstore.chroma_store import make_client


def open_knowledge_base(
    settings: Settings, *, embedder: Embedder | None = None, client=None
) -> KnowledgeBase:
    if embedder is None:
        from rag.embedding import create_embedder

        embedder = create_embedder(settings)
    if client is None:
        client = make_client(
            persist_dir=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port
        )
    return KnowledgeBase(settings=settings, embedder=embedder, client=client)


def make_generator(settings: Settings, kb: KnowledgeBase) -> Generator:
    # settings.generator is validated to be "extractive" until LLM backends exist.
    return ExtractiveGenerator(embedder=kb.embedder, idf=kb.keyword.idf)


class Assistant:
    def __init__(self, settings: Settings, *, kb: KnowledgeBase, generator: Generator | None = None) -> None:
        self.settings = settings
        self.kb = kb
        self.retriever = Retriever(
            kb, mode=settings.retrieval_mode, candidates=settings.candidates, rrf_k=settings.rrf_k
        )
        self.generator = generator or make_generator(settings, kb)

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        return cls(settings, kb=open_knowledge_base(settings))

    def ingest(self, paths: list[Path] | None = None, *, prune: bool = False) -> IngestReport:
        return self.kb.ingest(paths or list(self.settings.corpus), prune=prune)

    def search(
        self, question: str, *, k: int | None = None, mode: str | None = None, doc_ids: set[str] | None = None
    ) -> RetrievalResult:
        if self.kb.store.count() == 0:
            raise EmptyIndexError(
                f"knowledge base '{self.settings.collection}' is empty: run `rag ingest` first"
            )
        return self.retriever.retrieve(question, k=k or self.settings.top_k, mode=mode, doc_ids=doc_ids)

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: set[str] | None = None,
        depth: int | None = None,
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Retrieve ``max(depth, k)`` passages and answer from the first ``k``; the Answer carries
        all retrieved passages (the eval harness scores hit@10 while the answer uses top_k).
        ``history`` holds the earlier turns of a conversation, for follow-up questions."""
        answer: Answer | None = None
        for event in self.ask_stream(question, k=k, mode=mode, doc_ids=doc_ids, depth=depth, history=history):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: set[str] | None = None,
        depth: int | None = None,
        history: Sequence[Turn] = (),
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the final Answer (whose
        text may differ from the streamed pieces once citations are verified)."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        k = k or self.settings.top_k
        started = time.perf_counter()
        retrieved = self.search(question, k=max(k, depth or 0), mode=mode, doc_ids=doc_ids)
        retrieve_seconds = time.perf_counter() - started
        started = time.perf_counter()
        stream = getattr(self.generator, "stream", None)
        answer: Answer | None = None
        if stream is None:
            answer = self.generator.generate(question, retrieved.passages[:k])
            yield from _pieces(answer.text)
        else:
            for event in stream(question, retrieved.passages[:k]):
                if isinstance(event, Answer):
                    answer = event
                else:
                    yield event
        assert answer is not None, "a generator's stream must end with its Answer"
        timings = {
            **retrieved.timings,
            "retrieve": retrieve_seconds,
            "generate": time.perf_counter() - started,
        }
        timings["total"] = timings["retrieve"] + timings["generate"]
        yield replace(answer, passages=retrieved.passages, timings=timings)


def _pieces(text: str) -> Iterator[str]:
    """Split a finished answer into word-sized pieces (a CJK character, or a word with its space)."""
    yield from (
        m.group(0)
        for m in re.finditer(
            r"[\u3400-\u9fff\uf900-\ufaff]|[^\u3400-\u9fff\uf900-\ufaff]+?(?:\s+|$|(?=[\u3400-\u9fff]))", text
        )
    )
