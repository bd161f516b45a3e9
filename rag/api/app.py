"""``rag api``: the assistant behind an OpenAI-compatible HTTP API (see docs/api.md).

``POST /v1/chat/completions`` (plain or ``stream: true`` server-sent events), ``GET /v1/models``
(the knowledge bases, as ``tianfu-rag`` and ``tianfu-rag:<collection>``), ``GET /health``.
Answers are computed one at a time (the embedder and the stores are shared)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.api.schema import (
    MODEL_PREFIX,
    ChatRequest,
    ChunkWriter,
    completion,
    error_body,
    footnotes,
    question_and_history,
    rag_details,
)
from rag.errors import (
    ConfigError,
    EmptyIndexError,
    GeneratorError,
    IndexMismatchError,
    RagError,
    UnknownDocumentError,
)
from rag.filters import filter_from_request
from rag.generate.markers import strip_reference_list
from rag.pipeline import Assistant
from rag.pool import AssistantPool
from rag.prompts import load_prompts
from rag.security import ApiKeyAuth, BodyLimit, FailureThrottle, check_bind, read_api_keys
from rag.settings import Settings
from rag.types import Answer, Stage


class UnknownModelError(RagError):
    """A model id that names no knowledge base."""


def model_ids(pool: AssistantPool) -> list[str]:
    """The API's models: ``tianfu-rag`` (the default knowledge base) and one per collection."""
    return [MODEL_PREFIX] + [f"{MODEL_PREFIX}:{c}" for c in pool.collections()]


def assistant_for(pool: AssistantPool, model: str) -> Assistant:
    collection = pool.default_collection if model == MODEL_PREFIX else None
    if model.startswith(f"{MODEL_PREFIX}:"):
        collection = model.split(":", 1)[1]
    if collection is None or collection not in pool.collections():
        raise UnknownModelError(f"the model {model!r} does not exist; GET /v1/models lists the models")
    return pool.get(collection)


_STATUS = (
    (UnknownModelError, 404, "invalid_request_error", "model_not_found"),
    (UnknownDocumentError, 404, "invalid_request_error", "document_not_found"),
    (EmptyIndexError, 503, "server_error", "knowledge_base_empty"),
    (GeneratorError, 502, "server_error", "generator_failed"),
    (IndexMismatchError, 500, "server_error", "index_mismatch"),
    (ConfigError, 500, "server_error", "configuration"),
    (RagError, 500, "server_error", None),
    (ValueError, 400, "invalid_request_error", None),
)


def _error_response(exc: Exception) -> JSONResponse:
    for kind, status, error_type, code in _STATUS:
        if isinstance(exc, kind):
            return JSONResponse(error_body(str(exc), kind=error_type, code=code), status_code=status)
    raise exc


def _add_error_handlers(app: FastAPI) -> None:
    """Malformed requests and unknown routes answer in the OpenAI error format."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"invalid request: {where}: {first.get('msg', 'malformed')}" if where else "invalid request"
        return JSONResponse(error_body(message), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else None
        return JSONResponse(error_body(str(exc.detail), code=code), status_code=exc.status_code)


def create_app(pool: AssistantPool, *, api_keys: tuple[str, ...] = ()) -> FastAPI:
    """The API; with ``api_keys``, every route but ``/health`` needs ``Authorization: Bearer``."""
    settings = pool.settings
    app = FastAPI(title="tianfu-rag", description="Cited answers from Chinese policy documents")
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_kb * 1024)
    throttle = FailureThrottle(settings.login_max_failures)
    app.add_middleware(ApiKeyAuth, keys=tuple(api_keys), throttle=throttle, open_paths=("/health",))
    _add_error_handlers(app)
    _add_info_routes(app, pool)
    _add_chat_route(app, pool)
    return app


def health_of(pool: AssistantPool) -> dict[str, Any]:
    """What ``/health`` says: the default knowledge base, its size (read under the store's read
    lock, like every request's reads), the generator and whether citations are checked."""
    default = pool.default
    with default.kb.reading():
        chunks = default.kb.store.count()
    return {
        "status": "ok",
        "model": MODEL_PREFIX,
        "collection": default.settings.collection,
        "chunks": chunks,
        "generator": default.generator.name,
        "verify_citations": default.verifier is not None,
    }


def _add_info_routes(app: FastAPI, pool: AssistantPool) -> None:
    """``/health`` and the OpenAI-style model list (one model per knowledge base)."""

    @app.get("/health")
    def health() -> dict[str, Any]:
        return health_of(pool)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [_model(m) for m in model_ids(pool)]}

    @app.get("/v1/models/{model_id:path}")
    def model(model_id: str) -> Any:
        if model_id not in model_ids(pool):
            return _error_response(UnknownModelError(f"the model {model_id!r} does not exist"))
        return _model(model_id)


def _add_chat_route(app: FastAPI, pool: AssistantPool) -> None:
    """``/v1/chat/completions``: one answer at a time (streamed or whole); errors a user can fix
    are a 400/404 with one message."""
    settings = pool.settings
    answering = threading.Lock()

    @app.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest) -> Any:
        try:
            assistant = assistant_for(pool, body.model)
            question, history = question_and_history(body.messages)
            if len(question) > settings.max_question_chars:
                raise ValueError(
                    f"the question has {len(question):,} characters, the limit is "
                    f"{settings.max_question_chars:,} (max_question_chars)"
                )
            options = {"k": body.k, "mode": body.mode, "doc_ids": set(body.doc_ids) if body.doc_ids else None}
            options["where"] = filter_from_request(body.filter)
            if not body.stream:
                with answering:
                    answer = assistant.ask(question, history=history, **options)
                return completion(answer, body.model)
            answering.acquire()
            try:
                events = _without_stages(assistant.ask_stream(question, history=history, **options))
                first = next(events)  # retrieval runs here, so its errors get a status code
            except BaseException:
                answering.release()
                raise
        except (RagError, ValueError) as exc:
            return _error_response(exc)
        return StreamingResponse(
            _released(_sse(first, events, body.model), answering), media_type="text/event-stream"
        )


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": MODEL_PREFIX}


def _released(events: Iterator[str], lock: threading.Lock) -> Iterator[str]:
    try:
        yield from events
    finally:
        lock.release()


def _sse(first: str | Answer, events: Iterator[str | Answer], model: str) -> Iterator[str]:
    """The answer as chat.completion.chunk events: the role, the text pieces, a note with the
    checked text if verification changed it, the footnotes, and a last chunk with ``citations``
    and ``x_rag``; then ``[DONE]``. An error after the stream began is sent as an error event."""
    writer = ChunkWriter(model)
    yield _event(writer.chunk({"role": "assistant", "content": ""}))
    streamed: list[str] = []
    try:
        for event in _chain(first, events):
            if isinstance(event, Answer):
                for piece in _closing_pieces(event, "".join(streamed)):
                    yield _event(writer.chunk({"content": piece}))
                details = {"citations": [c.to_dict() for c in event.citations], "x_rag": rag_details(event)}
                yield _event(writer.chunk({}, "stop", **details))
            else:
                streamed.append(event)
                yield _event(writer.chunk({"content": event}))
    except (RagError, ValueError) as exc:
        kind = "server_error" if isinstance(exc, RagError) else "invalid_request_error"
        yield _event(error_body(str(exc), kind=kind))
    yield "data: [DONE]\n\n"


def _closing_pieces(answer: Answer, streamed: str) -> list[str]:
    pieces = []
    if answer.text.strip() != strip_reference_list(streamed):
        revised = load_prompts("verify.v2").render("revised", language=answer.language, text=answer.text)
        pieces.append(f"\n\n{revised}")
    notes = footnotes(answer.citations)
    if notes:
        pieces.append(f"\n\n{notes}")
    return pieces


def _without_stages(events: Iterator[str | Stage | Answer]) -> Iterator[str | Answer]:
    """The text pieces and the Answer (stage events are for UIs, not for the chat stream)."""
    return (event for event in events if not isinstance(event, Stage))


def _chain(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    insecure: bool = False,
    api_keys_file: str | None = None,
) -> int:
    """Run the API; beyond loopback it needs API keys (``api_keys``, ``api_keys_file``,
    ``RAG_API_KEYS``) unless ``insecure``."""
    import sys

    import uvicorn

    host = host or settings.host
    keys = read_api_keys(settings, api_keys_file)
    warning = check_bind(
        host, authenticated=bool(keys), insecure=insecure, how="set api_keys_file or RAG_API_KEYS"
    )
    if warning:
        print(f"rag api: {warning}", file=sys.stderr)
    pool = AssistantPool(settings)
    pool.get(pool.default_collection)  # opens the default knowledge base now, not on the first request
    app = create_app(pool, api_keys=keys)
    uvicorn.run(app, host=host, port=port or settings.api_port, log_level="info")
    return 0
