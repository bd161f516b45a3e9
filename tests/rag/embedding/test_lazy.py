"""The lazy embedder: the model loads on the first vector, once; commands that need none never load it."""

from __future__ import annotations

import threading

import pytest
from fakes import HashEmbedder

from rag.embedding.lazy import BUILTIN_DIMENSION, LazyEmbedder, lazy_embedder
from rag.errors import EmbeddingError
from rag.index import open_knowledge_base
from rag.settings import Settings
from vectorstore.chroma_store import make_client


def _never() -> HashEmbedder:
    raise AssertionError("the model was loaded")


def test_nothing_loads_until_a_vector_is_asked_for():
    calls = []
    lazy = LazyEmbedder(
        lambda: calls.append(1) or HashEmbedder(), model_id="test:hash-bigrams", dimension=256
    )
    assert (lazy.model_id, lazy.dimension, lazy.loaded, calls) == ("test:hash-bigrams", 256, False, [])
    assert lazy.embed_query("成都").shape == (256,)
    assert lazy.embed_passages(["a", "b"]).shape == (2, 256)
    assert lazy.loaded and calls == [1]


def test_threads_share_one_load():
    calls, gate = [], threading.Barrier(4)

    def load():
        calls.append(1)
        return HashEmbedder()

    lazy = LazyEmbedder(load, model_id="test:hash-bigrams", dimension=256)

    def use():
        gate.wait()
        lazy.embed_query("x")

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]


def test_an_unknown_dimension_loads_the_model_and_a_mismatch_is_an_error():
    assert LazyEmbedder(HashEmbedder, model_id="test:hash-bigrams").dimension == 256
    with pytest.raises(EmbeddingError, match="expected other:model"):
        LazyEmbedder(HashEmbedder, model_id="other:model", dimension=256).embed_query("x")
    with pytest.raises(EmbeddingError, match="dimension 384"):
        LazyEmbedder(HashEmbedder, model_id="test:hash-bigrams", dimension=384).embed_query("x")


@pytest.mark.parametrize(("model_id", "dimension"), [("", 3), ("m", 0)])
def test_bad_arguments_are_value_errors_naming_them(model_id, dimension):
    with pytest.raises(ValueError, match=repr(model_id) if not model_id else "0"):
        LazyEmbedder(HashEmbedder, model_id=model_id, dimension=dimension)


def test_the_builtin_model_is_known_without_loading(tmp_path):
    lazy = lazy_embedder(Settings(data_dir=tmp_path))
    assert (lazy.model_id, lazy.dimension, lazy.loaded) == (
        "builtin:multilingual-e5-small",
        BUILTIN_DIMENSION,
        False,
    )


def test_listing_and_deleting_documents_load_no_model(tmp_path, corpus_copy):
    settings = Settings(data_dir=tmp_path, progress=False)
    client = make_client()
    open_knowledge_base(settings, embedder=HashEmbedder(), client=client).ingest([corpus_copy])
    lazy = LazyEmbedder(_never, model_id=HashEmbedder.model_id, dimension=HashEmbedder.dimension)
    kb = open_knowledge_base(settings, embedder=lazy, client=client)
    docs = kb.documents()
    assert len(docs) == 5
    assert kb.remove_documents([docs[0].doc_id]) > 0
    assert len(kb.documents()) == 4 and not lazy.loaded
