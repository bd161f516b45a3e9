"""Serving safeguards shared by ``rag api`` and ``rag serve``: where a server may listen without a
login, API keys, throttling of failed logins, and a cap on request bodies.

The throttle and the body cap are plain ASGI middleware, so they sit in front of FastAPI and of
the mounted Gradio app alike.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.settings import Settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, authenticated: bool, insecure: bool, how: str) -> str | None:
    """Refuse (ConfigError) to listen beyond loopback without a login, unless ``insecure``; the
    warning to print when it is allowed anyway."""
    if is_loopback(host) or authenticated:
        return None
    if not insecure:
        raise ConfigError(
            f"refusing to listen on {host} without authentication: anyone who can reach it could use "
            f"and change the knowledge base; {how}, or pass --insecure to do it anyway"
        )
    return f"warning: listening on {host} without authentication (--insecure)"


def read_api_keys(settings: Settings, file: Path | str | None = None) -> tuple[str, ...]:
    """``api_keys`` plus the lines of ``api_keys_file`` (or ``file``); '#' starts a comment."""
    keys = list(settings.api_keys)
    path = file or settings.api_keys_file
    if path:
        try:
            lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the API keys file {path}: {exc.strerror or exc}") from exc
        found = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not found:
            raise ConfigError(f"the API keys file {path} holds no key")
        if any(any(c.isspace() for c in key) for key in found):
            raise ConfigError(f"the API keys file {path}: a key must not contain spaces")
        keys += found
    return tuple(dict.fromkeys(keys))


def key_matches(given: str, keys: Iterable[str]) -> bool:
    """Constant-time comparison against every key (no early exit that would time the match)."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


class FailureThrottle:
    """At most ``max_failures`` failed logins per client address within ``window`` seconds; then
    that address waits until the oldest failure leaves the window."""

    def __init__(
        self, max_failures: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        if max_failures < 1 or window <= 0:
            raise ValueError(f"max_failures must be >= 1 and window > 0; got {max_failures}, {window}")
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds this client must wait before trying again (0: it may try now)."""
        with self._lock:
            failures = self._prune(client)
            if len(failures) < self.max_failures:
                return 0.0
            return max(failures[0] + self.window - self.clock(), 0.001)

    def failed(self, client: str) -> None:
        with self._lock:
            self._prune(client).append(self.clock())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _prune(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def error_json(message: str, code: str) -> dict[str, Any]:
    """The OpenAI-style error body both servers answer with."""
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


class LoginThrottle:
    """ASGI middleware: failed form logins (``POST .../login`` answered 400 or 401) count against
    the client address; over the limit, the login answers 429 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, throttle: FailureThrottle, *, path_suffix: str = "/login") -> None:
        self.app, self.throttle, self.path_suffix = app, throttle, path_suffix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith(self.path_suffix):
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait:
            await send_json(
                send,
                429,
                error_json(f"too many failed logins: try again in {wait:.0f} s", "too_many_attempts"),
                [("retry-after", str(int(wait) + 1))],
            )
            return

        async def watching(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status in (400, 401, 403):
                    self.throttle.failed(client)
                elif status < 400:
                    self.throttle.succeeded(client)
            await send(message)

        await self.app(scope, receive, watching)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 (from its
    Content-Length before anything is read, or as soon as a streamed body passes the limit).
    Paths starting with one of ``exempt`` (uploads, which have their own limit) pass."""

    def __init__(self, app: ASGIApp, max_bytes: int, *, exempt: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes, self.exempt = app, max_bytes, exempt

    def _too_large(self) -> dict[str, Any]:
        return error_json(
            f"request body too large: the limit is {self.max_bytes // 1024} KB (max_request_kb)",
            "request_too_large",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, self._too_large())
            return
        state = {"read": 0, "over": False, "started": False}

        async def counting() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.max_bytes:
                    state["over"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: dict[str, Any]) -> None:
            if state["over"]:
                return  # the 413 below is the answer
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting, guarded)
        except Exception:
            if not state["over"]:
                raise  # the app's own error; a body cut short is ours to answer
        if state["over"] and not state["started"]:
            await send_json(send, 413, self._too_large())


class ApiKeyAuth:
    """ASGI middleware: every path but ``open_paths`` needs ``Authorization: Bearer <key>`` with
    one of ``keys``; failures are throttled per client address (401, then 429)."""

    def __init__(
        self,
        app: ASGIApp,
        keys: tuple[str, ...],
        throttle: FailureThrottle,
        *,
        open_paths: tuple[str, ...] = (),
    ) -> None:
        self.app, self.keys, self.throttle, self.open_paths = app, keys, throttle, open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or scope.get("path") in self.open_paths:
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait:
            message = f"too many requests with a wrong API key: try again in {wait:.0f} s"
            await send_json(
                send, 429, error_json(message, "too_many_attempts"), [("retry-after", str(int(wait) + 1))]
            )
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not key_matches(given.strip(), self.keys):
            self.throttle.failed(client)
            reason = "a missing" if not header else "an invalid"
            body = error_json(f"{reason} API key: send Authorization: Bearer <key>", "invalid_api_key")
            await send_json(send, 401, body, [("www-authenticate", "Bearer")])
            return
        await self.app(scope, receive, send)  # success does not clear failures: keys are not guessed
