"""``rag serve``: the UI mounted on a FastAPI app (with ``GET /health``), served by uvicorn."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, RagError
from rag.extras import require_extra
from rag.security import BodyLimit, FailureThrottle, LoginThrottle, check_bind, is_loopback
from rag.settings import Settings
from ui.service import AssistantPool

MB = 1024 * 1024


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    auth: tuple[tuple[str, str], ...] = ()
    insecure: bool = False  # allow a non-loopback address without --auth

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535; got {self.port}")
        if not self.host:
            raise ValueError("host must not be empty")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``rag serve`` to the CLI (the composition root calls this)."""
    command = sub.add_parser("serve", help="the web UI: chat, knowledge base, eval")
    add_arguments(command)
    command.set_defaults(run=_serve)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    require_extra("rag serve")
    return run_serve(args, settings)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default: settings host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings ui_port, 7860)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--auth", help="require a login: USER:PASSWORD")
    group.add_argument("--auth-file", type=Path, help="require a login: a file of USER:PASSWORD lines")
    parser.add_argument("--insecure", action="store_true", help="allow a non-loopback address without --auth")
    parser.add_argument("--collection", default=argparse.SUPPRESS, help="knowledge base (collection) name")


def parse_credential(text: str, where: str = "--auth") -> tuple[str, str]:
    user, sep, password = text.strip().partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"{where}: expected USER:PASSWORD; got {text.strip()!r}"[:120])
    return user, password


def read_auth_file(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the auth file {path}: {exc.strerror or exc}") from exc
    pairs = tuple(
        parse_credential(line, f"{path}:{number}")
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    )
    if not pairs:
        raise ConfigError(f"the auth file {path} holds no USER:PASSWORD line")
    return pairs


def options_from_args(args: argparse.Namespace, settings: Settings) -> ServeOptions:
    auth: tuple[tuple[str, str], ...] = ()
    if getattr(args, "auth", None):
        auth = (parse_credential(args.auth),)
    elif getattr(args, "auth_file", None):
        auth = read_auth_file(args.auth_file)
    return ServeOptions(
        host=getattr(args, "host", None) or settings.host,
        port=getattr(args, "port", None) or settings.ui_port,
        auth=auth,
        insecure=bool(getattr(args, "insecure", False)),
    )


def health(pool: AssistantPool) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for ``GET /health``: the default collection and its document count."""
    collection = pool.default_collection
    try:
        assistant = pool.get(collection)
        with pool.lock(collection).read():
            documents = len(assistant.kb.registry())
    except (RagError, ValueError) as exc:
        return 503, {"status": "error", "collection": collection, "error": str(exc)}
    return 200, {"status": "ok", "collection": collection, "documents": documents}


def build_server(settings: Settings, options: ServeOptions, *, pool: AssistantPool | None = None) -> Any:
    """The FastAPI app: ``/health``, then the UI at ``/``."""
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from ui.app import create_app
    from ui.theme import launch_options

    pool = pool or AssistantPool(settings)
    app = FastAPI(title="tianfu-rag", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health_route() -> JSONResponse:
        status, body = health(pool)
        return JSONResponse(body, status_code=status)

    blocks = create_app(settings, pool=pool)
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        server_name=options.host,
        server_port=options.port,
        auth=list(options.auth) or None,
        auth_message="天府政策问答 · Tianfu Policy QA",
        max_file_size=settings.max_upload_mb * MB,
        blocked_paths=[str(settings.data_dir.resolve())],
        footer_links=["api"],
        ssr_mode=False,
        mcp_server=False,
        **launch_options(),
    )
    # gradio checks that a file named in a request was uploaded (and is not a server file) only
    # once the Blocks "has launched", which mount_gradio_app never records: without this, a
    # FileData naming /any/server/file.txt was ingested (upload_files checks the folder too).
    blocks.has_launched = True
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_kb * 1024, exempt=("/gradio_api/upload",))
    app.add_middleware(LoginThrottle, throttle=FailureThrottle(settings.login_max_failures))
    return app


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    options = options_from_args(args, settings)
    warning = check_bind(
        options.host,
        authenticated=bool(options.auth),
        insecure=options.insecure,
        how="use --auth or --auth-file",
    )
    pool = AssistantPool(settings)
    status, body = health(pool)  # opens the default knowledge base now, not on the first visit
    if status == 200:
        print(
            f"rag serve: knowledge base {body['collection']!r}: {body['documents']} documents",
            file=sys.stderr,
        )
    else:
        print(f"rag serve: warning: {body['error']}", file=sys.stderr)
    app = build_server(settings, options, pool=pool)
    if warning:
        print(f"rag serve: {warning}", file=sys.stderr)
    print(f"rag serve: {options.url} (Ctrl-C to stop)", file=sys.stderr)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")
    return 0
