"""The assistant: open the knowledge base, retrieve, generate. Built once from Settings."""

from __future__ import annotations

import collections.abc
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from rag.errors import EmptyIndexError, UnknownDocumentError
from rag.filters import Filter
from rag.followup import Rewriter, make_rewriter
from rag.generate.answer_model import EvidenceModel, EvidenceParams
from rag.generate.base import Generator
from rag.generate.extractive import ExtractiveGenerator
from rag.generate.markers import split_claims
from rag.generate.verify import CitationVerifier
from rag.index import KnowledgeBase, open_knowledge_base
from rag.ingest import IngestReport
from rag.question import analyse_question
from rag.retrieve import RetrievalResult, Retriever, widen
from rag.settings import Settings
from rag.supersede import LatestWord
from rag.types import Answer, Citation, Passage, Stage, Turn

__all__ = ["Assistant", "open_knowledge_base"]

WIDENED = 2  # passages of a list question widened by their neighbours (measured on sichuan-dev)


class _KeywordStats:
    """The knowledge base's current keyword index (it may be reopened) as term statistics."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def idf(self, term: str) -> float:
        return self.kb.keyword.idf(term)

    def known(self, term: str) -> bool:
        return self.kb.keyword.known(term)


def make_evidence_model(settings: Settings, kb: KnowledgeBase) -> EvidenceModel:
    """The trained evidence model over the knowledge base's embedder and keyword statistics."""
    return EvidenceModel(
        EvidenceParams.load(),
        embedder=kb.embedder,
        stats=_KeywordStats(kb),
        abstain_below=settings.abstain_below,
    )


def make_generator(settings: Settings, kb: KnowledgeBase, evidence: EvidenceModel) -> Generator:
    """The generator ``settings.generator`` names: extractive (offline), openai (any
    OpenAI-compatible endpoint) or local (a GGUF model in-process)."""
    if settings.generator == "extractive":
        return ExtractiveGenerator(evidence=evidence)
    from rag.generate.llm import make_llm_generator

    return make_llm_generator(settings, evidence=evidence)


def make_verifier(settings: Settings, kb: KnowledgeBase, evidence: EvidenceModel) -> CitationVerifier | None:
    if not settings.verify_citations:
        return None
    return CitationVerifier(kb.embedder, idf=lambda term: kb.keyword.idf(term), evidence=evidence)


class Assistant:
    def __init__(
        self,
        settings: Settings,
        *,
        kb: KnowledgeBase,
        generator: Generator | None = None,
        rewriter: Rewriter | None = None,
        verifier: CitationVerifier | None = None,
        evidence: EvidenceModel | None = None,
    ) -> None:
        """``rewriter`` (follow-ups) defaults to the generator's LLM or the rules; ``verifier``
        to citation verification with the knowledge base's embedder unless
        ``settings.verify_citations`` is off; ``evidence`` to the trained evidence model."""
        self.settings = settings
        self.kb = kb
        self.retriever = Retriever(
            kb, mode=settings.retrieval_mode, candidates=settings.candidates, rrf_k=settings.rrf_k
        )
        self.evidence = evidence or make_evidence_model(settings, kb)
        self.generator = generator or make_generator(settings, kb, self.evidence)
        self.rewriter = rewriter or make_rewriter(self.generator)
        self.verifier = verifier or make_verifier(settings, kb, self.evidence)
        self.latest_word = LatestWord(kb, self.retriever)  # notes on repealed documents (post-step)

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        return cls(settings, kb=open_knowledge_base(settings))

    def ingest(self, paths: list[Path] | None = None, *, prune: bool = False) -> IngestReport:
        return self.kb.ingest(paths or list(self.settings.corpus), prune=prune)

    def search(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: set[str] | None = None,
        where: Filter | None = None,
    ) -> RetrievalResult:
        with self.kb.reading():  # another process's ingest is seen, and never seen half-done
            if self.kb.store.count() == 0:
                raise EmptyIndexError(
                    f"knowledge base '{self.settings.collection}' is empty: run `rag ingest` first"
                )
            unknown = self.kb.unknown_documents(doc_ids or ())
            if unknown:
                raise UnknownDocumentError(
                    f"no such document in knowledge base '{self.settings.collection}': {', '.join(unknown)}"
                    " (`rag docs` lists them)"
                )
            return self.retriever.retrieve(
                question, k=k or self.settings.top_k, mode=mode, doc_ids=doc_ids, where=where
            )

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: set[str] | None = None,
        depth: int | None = None,
        history: Sequence[Turn] = (),
        where: Filter | None = None,
    ) -> Answer:
        """Retrieve ``max(depth, k)`` passages and answer from the first ``k``; the Answer carries
        all retrieved passages (the eval harness scores hit@10 while the answer uses top_k).
        ``history`` holds the earlier turns of a conversation, for follow-up questions."""
        answer: Answer | None = None
        for event in self.ask_stream(
            question, k=k, mode=mode, doc_ids=doc_ids, depth=depth, history=history, where=where
        ):
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
        where: Filter | None = None,
    ) -> Iterator[str | Stage | Answer]:
        """Yield pieces of the answer text as they are produced, then the final Answer (whose
        text may differ from the streamed pieces once citations are verified); a ``Stage`` is
        yielded before retrieving, answering and verifying (consumers of text skip it). A follow-up is
        first rewritten into a standalone question (``Answer.rewritten_question``), which
        retrieval and generation use; ``Answer.question`` stays what was asked."""
        question = self._checked(question)
        k = k or self.settings.top_k
        timings: dict[str, float] = {}
        yield Stage("retrieving")
        started = time.perf_counter()
        standalone = self.rewriter.rewrite(question, history) if history else question
        if history:
            timings["rewrite"] = time.perf_counter() - started
        started = time.perf_counter()
        retrieved = self.search(standalone, k=max(k, depth or 0), mode=mode, doc_ids=doc_ids, where=where)
        timings["retrieve"] = time.perf_counter() - started
        passages = self._widened(standalone, retrieved.passages[:k])
        yield Stage("answering")
        started = time.perf_counter()
        answer = yield from self._generate(standalone, passages)
        timings["generate"] = time.perf_counter() - started
        if self.verifier is not None:
            yield Stage("verifying")
            started = time.perf_counter()
            answer = self._verify(answer, passages, question, standalone)
            timings["verify"] = time.perf_counter() - started
        if getattr(self.generator, "stream", None) is None:
            yield from _pieces(answer.text)  # a whole answer is streamed once it is checked
        latest = self._final(answer, question, standalone, retrieved, timings)
        checked = answer.text.rstrip()
        if latest.text != answer.text and latest.text.startswith(checked):
            yield from _pieces(latest.text[len(checked) :])  # the note on superseded passages, streamed too
        yield latest

    def _widened(self, question: str, passages: list[Passage]) -> list[Passage]:
        """For a list question, the best passages joined with their neighbours in the document:
        the items of an enumeration are often cut across chunks."""
        if analyse_question(question).kind != "list":
            return passages
        wide: list[Passage] = []
        with self.kb.reading():
            for passage in passages[:WIDENED]:
                joined = widen(self.kb, passage)
                same = any(
                    (w.doc_id, w.start, w.end) == (joined.doc_id, joined.start, joined.end) for w in wide
                )
                wide.append(passage if same else joined)
        return wide + passages[WIDENED:]

    def _checked(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise ValueError(
                f"the question has {len(question):,} characters, the limit is "
                f"{self.settings.max_question_chars:,} (max_question_chars)"
            )
        return question

    def _generate(
        self, question: str, passages: list[Passage]
    ) -> collections.abc.Generator[str, None, Answer]:
        """Yield a streaming generator's text pieces; return its Answer (or a whole one's)."""
        stream = getattr(self.generator, "stream", None)
        if stream is None:
            return self.generator.generate(question, passages)
        answer: Answer | None = None
        for event in stream(question, passages):
            if isinstance(event, Answer):
                answer = event
            else:
                yield event
        assert answer is not None, "a generator's stream must end with its Answer"
        return answer

    def _verify(self, answer: Answer, passages: list[Passage], question: str, standalone: str) -> Answer:
        assert self.verifier is not None
        subject = self._subject_of(question, standalone)
        if subject:
            return self.verifier.verify(answer, passages, required=subject)
        return self.verifier.verify(answer, passages)

    def _final(
        self,
        answer: Answer,
        question: str,
        standalone: str,
        retrieved: RetrievalResult,
        timings: dict[str, float],
    ) -> Answer:
        """The answer with its document facts, what was asked, every retrieved passage, the
        timings, and the latest word on documents that were repealed."""
        timings = {**retrieved.timings, **timings}
        timings["total"] = sum(
            timings[key] for key in ("rewrite", "retrieve", "generate", "verify") if key in timings
        )
        final = replace(
            answer,
            citations=_with_document_facts(answer.citations, retrieved.passages),
            question=question,
            rewritten_question=standalone if standalone != question else None,
            passages=retrieved.passages,
            timings=timings,
        )
        return self.latest_word.apply(final, standalone)

    def _subject_of(self, question: str, standalone: str) -> tuple[str, ...]:
        """What a rewritten follow-up itself names ("成都" of "那成都呢？"): the evidence must be
        about it, not only about the earlier question's subject."""
        if standalone == question:
            return ()
        terms = analyse_question(question).terms
        return tuple(t for t in terms if len(t) >= 2 and self.kb.keyword.known(t))


def _with_document_facts(citations: list[Citation], passages: list[Passage]) -> list[Citation]:
    """Citations with their document's number and issuer, from the passage each cites."""
    by_chunk = {p.chunk_id: p for p in passages}
    return [
        replace(c, doc_number=c.doc_number or p.doc_number, issuer=c.issuer or p.issuer)
        if (p := by_chunk.get(c.chunk_id))
        else c
        for c in citations
    ]


def _pieces(text: str) -> Iterator[str]:
    """Split a finished answer into sentence-sized pieces (a sentence with its markers and the
    space after it, cut where the verifier's next claim starts); joined, they are the text."""
    bounds = [0, *(claim.start for claim in split_claims(text)[1:]), len(text)]
    yield from (text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a)
