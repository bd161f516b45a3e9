import numpy as np
import pytest

from rag.embedding.cache import QueryCachingEmbedder


class CountingEmbedder:
    model_id = "test:counting"
    dimension = 2

    def __init__(self):
        self.queries: list[str] = []

    def embed_passages(self, texts):
        return np.ones((len(texts), 2), np.float32)

    def embed_query(self, text):
        self.queries.append(text)
        return np.array([len(text), 1.0], np.float32)


def test_a_repeated_query_runs_the_model_once():
    inner = CountingEmbedder()
    embedder = QueryCachingEmbedder(inner)
    first = embedder.embed_query("四川")
    second = embedder.embed_query("四川")
    assert inner.queries == ["四川"]
    assert np.array_equal(first, second)
    assert embedder.model_id == "test:counting" and embedder.dimension == 2


def test_least_recently_used_query_is_forgotten_first():
    inner = CountingEmbedder()
    embedder = QueryCachingEmbedder(inner, size=2)
    for text in ("a", "b", "a", "c", "a", "b"):
        embedder.embed_query(text)
    # "b" was evicted when "c" arrived (a was used more recently), so it is embedded again.
    assert inner.queries == ["a", "b", "c", "b"]


def test_cached_vectors_cannot_be_modified_by_a_caller():
    embedder = QueryCachingEmbedder(CountingEmbedder())
    vector = embedder.embed_query("x")
    with pytest.raises(ValueError):
        vector[0] = 5


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="got 0"):
        QueryCachingEmbedder(CountingEmbedder(), size=0)
