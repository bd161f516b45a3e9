"""The stores stand alone: the keyword index scores with whatever ``Terms`` it is given, and the
Chroma store takes vectors, texts and metadata and checks the model recorded in the collection."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from vectorstore.chroma_store import ChromaStore, delete_collection, make_client
from vectorstore.errors import StoreMismatchError
from vectorstore.keyword import KeywordIndex


class WhitespaceTerms:
    """A text layer of the simplest kind: lower-cased words."""

    def tokenize(self, text: str) -> list[str]:
        return text.lower().split()

    def query_term_sets(self, query: str) -> list[list[str]]:
        return [list(dict.fromkeys(self.tokenize(query)))]

    def coverage(
        self, term_sets: list[list[str]], present: Callable[[str], bool], idf: Callable[[str], float]
    ) -> float:
        terms = term_sets[0]
        return sum(idf(t) for t in terms if present(t)) / sum(idf(t) for t in terms)


def test_keyword_index_uses_the_terms_it_is_given(tmp_path):
    index = KeywordIndex(tmp_path / "kw.json", terms=WhitespaceTerms())
    index.add("c1", "d1", "Green Belt of Chengdu")
    index.add("c2", "d2", "the river and the park")
    index.save()
    again = KeywordIndex(tmp_path / "kw.json", terms=WhitespaceTerms())
    (chunk, score, coverage), *rest = again.search("green park belt", k=5)
    assert chunk == "c1" and score > 0 and 0.5 < coverage < 1 and [r[0] for r in rest] == ["c2"]
    assert again.known("chengdu") and not again.known("Chengdu")
    assert again.search("green", doc_ids={"d2"}) == []
    assert again.idf("unseen") > again.idf("green")


def _vectors(*rows: list[float]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_chroma_store_reports_each_chunk_once_at_its_best_record():
    client = make_client()
    store = ChromaStore(client=client, collection="store-best", model_id="m", dimension=2)
    store.upsert(
        ["a", "a#en", "b"],
        ["甲", "A", "B"],
        [{"chunk_id": "a", "script": "zh"}, {"chunk_id": "a", "script": "en"}, {"chunk_id": "b"}],
        _vectors([1, 0], [0.9, 0.1], [0, 1]),
    )
    hits = store.search(_vectors([1, 0])[0], k=3)
    assert [(c.chunk_id, c.text) for c, _ in hits] == [("a", "甲"), ("b", "B")]
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [c.chunk_id for c, _ in store.search(_vectors([1, 0])[0], k=3, script="en")] == ["a"]
    assert store.get(["b"])[0].metadata == {"chunk_id": "b"} and store.count() == 3


def test_chroma_store_refuses_another_model_and_drops_any():
    client, name = make_client(), "store-models"
    ChromaStore(client=client, collection=name, model_id="m", dimension=2)
    with pytest.raises(StoreMismatchError) as caught:
        ChromaStore(client=client, collection=name, model_id="other", dimension=3)
    assert (caught.value.recorded, caught.value.expected) == (("m", 2), ("other", 3))
    with pytest.raises(LookupError, match="named"):
        ChromaStore(
            client=client, collection=name, model_id="x", dimension=1, mismatch=lambda e: LookupError("named")
        )
    delete_collection(client, name)
    delete_collection(client, name)  # nothing left: nothing happens
    assert ChromaStore(client=client, collection=name, model_id="other", dimension=3).count() == 0


def _reference_bm25(docs: dict[str, list[str]], query: list[str], k1=1.5, b=0.75) -> dict[str, float]:
    """BM25 written out the plain way (the formula of the earlier dict-based index)."""
    import math
    from collections import Counter

    n = len(docs)
    avg = sum(len(t) for t in docs.values()) / n
    df = Counter(t for tokens in docs.values() for t in set(tokens))
    scores: dict[str, float] = {}
    for chunk, tokens in docs.items():
        counts = Counter(tokens)
        for term in dict.fromkeys(query):
            if term in counts:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                tf = counts[term]
                norm = k1 * (1 - b + b * len(tokens) / avg)
                scores[chunk] = scores.get(chunk, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
    return scores


def test_keyword_scores_match_the_formula_through_changes_and_a_save(tmp_path):
    import random

    rng = random.Random(7)
    words = [f"w{i}" for i in range(40)]
    index = KeywordIndex(tmp_path / "kw.npz", terms=WhitespaceTerms())
    docs: dict[str, list[str]] = {}
    for step in range(300):
        chunk = f"c{rng.randrange(120)}"
        if step % 7 == 3 and docs:
            gone = rng.choice(sorted(docs))
            index.remove([gone])
            docs.pop(gone)
            continue
        tokens = [rng.choice(words[: rng.randrange(5, 40)]) for _ in range(rng.randrange(1, 30))]
        index.add(chunk, f"d{int(chunk[1:]) % 9}", " ".join(tokens))
        docs[chunk] = tokens
    index.save()
    for current in (index, KeywordIndex(tmp_path / "kw.npz", terms=WhitespaceTerms())):
        assert current.chunk_ids == set(docs) and len(current) == len(docs)
        for _ in range(20):
            query = rng.sample(words, 3)
            expected = _reference_bm25(docs, query)
            best = sorted(expected, key=lambda c: (-expected[c], c))[:5]
            got = current.search(" ".join(query), k=5)
            assert [c for c, _, _ in got] == best
            assert [s for _, s, _ in got] == pytest.approx([expected[c] for c in best])
            within = {"d1", "d4"}
            inside = [c for c, _, _ in current.search(" ".join(query), k=50, doc_ids=within)]
            assert inside == [
                c for c in sorted(expected, key=lambda c: (-expected[c], c)) if current.doc_of(c) in within
            ]
        assert current.doc_ids == {f"d{int(c[1:]) % 9}" for c in docs}


def test_an_earlier_versions_json_file_is_read_and_replaced(tmp_path):
    import json

    legacy = tmp_path / "kw.json"
    legacy.write_text(
        json.dumps({"tokens": {"c1": ["green", "belt"]}, "doc_of": {"c1": "d1"}}), encoding="utf-8"
    )
    index = KeywordIndex(tmp_path / "kw.npz", terms=WhitespaceTerms())
    assert index.chunk_ids == {"c1"} and index.search("belt")[0][0] == "c1"
    index.add("c2", "", "river")  # an empty document id survives the file too
    index.save()
    assert not legacy.exists()
    again = KeywordIndex(tmp_path / "kw.npz", terms=WhitespaceTerms())
    assert again.chunk_ids == {"c1", "c2"} and again.doc_of("c2") == ""
    assert KeywordIndex(tmp_path / "none.npz", terms=WhitespaceTerms()).search("x") == []


def test_reading_everything_goes_in_pages():
    client = make_client()
    store = ChromaStore(client=client, collection="store-pages", model_id="m", dimension=2)
    store.batch_size = 3
    ids = [f"r{i:02d}" for i in range(10)]
    store.upsert(
        ids, ids, [{"chunk_id": i, "doc_id": f"d{int(i[1:]) % 4}"} for i in ids], _vectors(*[[1, 0]] * 10)
    )
    assert sorted(c.chunk_id for c in store.all_metadata()) == ids
    assert store.doc_ids_where({"doc_id": {"$in": ["d1", "d3"]}}) == {"d1", "d3"}
    store.batch_size = 5  # a last page exactly full
    assert len(store.all_metadata()) == 10
