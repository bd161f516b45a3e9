"""``rag mcp``: the knowledge base as a Model Context Protocol server, for IDEs and desktop
assistants. Tools: ``search`` (passages), ``ask`` (a cited answer), ``list_documents`` and
``get_passage`` (a cited passage in full). Every passage and citation carries its chunk id, document
id, title, date and section, so the client can cite it.

Transports: stdio (the default; the client starts ``rag mcp``) or streamable HTTP, which is served
on loopback only (``http://127.0.0.1:PORT/mcp``): the server has no authentication of its own.
Needs the ``mcp`` extra (the official MCP Python SDK).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from rag.errors import ConfigError, RagError
from rag.pipeline import Assistant
from rag.settings import Settings
from rag.types import Answer, Passage

INSTRUCTIONS = (
    "Search and question a knowledge base of Chinese government policy documents (questions may be "
    "in Chinese, simplified or traditional, or English). `ask` returns an answer whose sentences "
    "carry [n] markers and the citations they point to; `search` returns ranked passages. When you "
    "use a fact, cite its document (title, date) and quote the cited span."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
Result = TypeVar("Result", bound=BaseModel)


class PassageResult(BaseModel):
    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    doc_number: str | None
    section: str
    text: str
    start: int  # offsets of the passage in the cleaned document text
    end: int
    score: float | None = None


class SearchResult(BaseModel):
    query: str
    passages: list[PassageResult]


class CitationResult(BaseModel):
    n: int  # the [n] marker in the answer
    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    section: str
    quote: str  # the cited span of the passage
    doc_start: int  # offsets of the quote in the cleaned document text
    doc_end: int


class AskResult(BaseModel):
    question: str
    answer: str
    language: str
    abstained: bool  # True: the documents do not answer the question
    citations: list[CitationResult]
    support: float | None  # share of cited sentences the verifier found supported
    generator: str


class DocumentResult(BaseModel):
    doc_id: str
    title: str
    date: str
    doc_number: str
    chunks: int


class DocumentList(BaseModel):
    collection: str
    documents: list[DocumentResult]


def passage_result(passage: Passage, *, score: bool = True) -> PassageResult:
    return PassageResult(
        chunk_id=passage.chunk_id,
        doc_id=passage.doc_id,
        title=passage.title,
        date=passage.date,
        doc_number=passage.doc_number,
        section=passage.section,
        text=passage.text,
        start=passage.start,
        end=passage.end,
        score=round(passage.score, 6) if score else None,
    )


def ask_result(answer: Answer) -> AskResult:
    return AskResult(
        question=answer.question,
        answer=answer.text,
        language=answer.language,
        abstained=answer.abstained,
        citations=[
            CitationResult(
                n=c.n,
                chunk_id=c.chunk_id,
                doc_id=c.doc_id,
                title=c.title,
                date=c.date,
                section=c.section,
                quote=c.span,
                doc_start=c.doc_start,
                doc_end=c.doc_end,
            )
            for c in answer.citations
        ],
        support=answer.support,
        generator=answer.generator,
    )


class _Shared:
    """The assistant, opened on the first tool call (so the client's handshake does not wait for
    the embedding model), and used by one call at a time (tools run in worker threads)."""

    def __init__(self, factory: Callable[[], Assistant]) -> None:
        self._factory, self._assistant = factory, None
        self.lock = threading.Lock()

    def get(self) -> Assistant:
        if self._assistant is None:
            self._assistant = self._factory()
        return self._assistant

    def call(self, work: Callable[[Assistant], Result]) -> Result:
        with self.lock:
            try:
                return work(self.get())
            except (RagError, ValueError) as exc:  # one line for the model to read
                raise ToolError(str(exc)) from exc


def build_server(factory: Callable[[], Assistant], *, collection: str) -> MCPServer:
    """The MCP server over the assistant ``factory`` builds (tests pass one over a fake KB)."""
    shared = _Shared(factory)
    server = MCPServer(name="tianfu-rag", instructions=INSTRUCTIONS, version="0.1.0")
    _add_answer_tools(server, shared.call)
    _add_document_tools(server, shared.call, collection)
    return server


def _add_answer_tools(server: MCPServer, call: Callable[[Callable[[Assistant], Any]], Any]) -> None:
    """``search`` (passages) and ``ask`` (a cited answer)."""

    @server.tool(annotations=READ_ONLY)
    def search(
        query: str,
        k: int = 5,
        mode: Literal["hybrid", "dense", "keyword"] = "hybrid",
        doc_ids: list[str] | None = None,
    ) -> SearchResult:
        """Passages of the knowledge base that match the query, best first (hybrid: meaning and
        keywords). ``doc_ids`` keeps only those documents (ids from list_documents)."""
        if not 1 <= k <= 50:
            raise ToolError(f"k must be between 1 and 50; got {k}")

        def work(assistant: Assistant) -> SearchResult:
            found = assistant.search(query, k=k, mode=mode, doc_ids=set(doc_ids) if doc_ids else None)
            return SearchResult(query=query, passages=[passage_result(p) for p in found.passages])

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def ask(question: str, k: int | None = None, doc_ids: list[str] | None = None) -> AskResult:
        """Answer a question from the documents. Every sentence of the answer carries [n] markers
        pointing at ``citations`` (document, title, date, quoted span); when the documents do not
        answer, ``abstained`` is true and the answer says so."""
        if k is not None and not 1 <= k <= 20:
            raise ToolError(f"k must be between 1 and 20; got {k}")

        def work(assistant: Assistant) -> AskResult:
            return ask_result(assistant.ask(question, k=k, doc_ids=set(doc_ids) if doc_ids else None))

        return call(work)


def _add_document_tools(
    server: MCPServer, call: Callable[[Callable[[Assistant], Any]], Any], collection: str
) -> None:
    """``list_documents`` and ``get_passage`` (one passage in full)."""

    @server.tool(annotations=READ_ONLY)
    def list_documents() -> DocumentList:
        """The documents of the knowledge base: id, title, date, document number, chunks."""

        def work(assistant: Assistant) -> DocumentList:
            docs = [
                DocumentResult(
                    doc_id=d.doc_id,
                    title=d.title or "",
                    date=d.date or "",
                    doc_number=d.doc_number or "",
                    chunks=d.chunks,
                )
                for d in assistant.kb.documents()
            ]
            return DocumentList(collection=collection, documents=docs)

        return call(work)

    @server.tool(annotations=READ_ONLY)
    def get_passage(chunk_id: str) -> PassageResult:
        """One passage in full by its chunk id (from search results or citations)."""

        def work(assistant: Assistant) -> PassageResult:
            from rag.retrieve import stored_passage

            with assistant.kb.reading():  # another process's ingest is seen
                found = assistant.kb.store.get([chunk_id])
            if not found:
                raise ToolError(f"no passage {chunk_id!r} in knowledge base '{collection}'")
            return passage_result(stored_passage(found[0]), score=False)

        return call(work)


def check_loopback(host: str) -> str:
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ConfigError(
        f"rag mcp serves HTTP on loopback only (it has no authentication); got --host {host!r}: "
        "use 127.0.0.1 and a tunnel or proxy with authentication for remote clients"
    )


def serve(
    settings: Settings, *, transport: str = "stdio", host: str | None = None, port: int | None = None
) -> int:
    """Run until the client disconnects (stdio) or the process is stopped (HTTP)."""
    server = build_server(lambda: Assistant.from_settings(settings), collection=settings.collection)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run(
            "streamable-http",
            host=check_loopback(host or "127.0.0.1"),
            port=port or settings.mcp_port,
            streamable_http_path="/mcp",
        )
    return 0
