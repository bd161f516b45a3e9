"""Ingestion with a fake embedder and an in-memory Chroma: re-ingest, change, prune, mismatch."""

import pytest

from rag.errors import IndexMismatchError


def test_first_ingest_indexes_every_document_in_both_indexes(make_kb, corpus_copy):
    kb = make_kb()
    report = kb.ingest([corpus_copy])
    assert sorted(report.added) == sorted(p.stem for p in corpus_copy.iterdir() if p.suffix == ".txt")
    assert len({c.metadata["chunk_id"] for c in kb.store.all_metadata()}) == report.chunks_written > 20
    assert kb.keyword.chunk_ids == {c.metadata["chunk_id"] for c in kb.store.all_metadata()}
    docs = {d.doc_id[:3]: d for d in kb.documents()}
    assert docs["000"].doc_number == "川办函〔2020〕31号"
    assert docs["002"].date == "2024-11-16"


def test_reingesting_an_unchanged_corpus_writes_nothing(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    again = make_kb().ingest([corpus_copy])
    assert again.wrote_nothing
    assert len(again.unchanged) == 5


def test_a_changed_file_replaces_its_chunks_without_duplicates(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    before = kb.store.count()
    path = next(corpus_copy.glob("003_*.txt"))
    path.write_text(path.read_text(encoding="utf-8").replace("第五次会议", "第六次会议"), encoding="utf-8")
    report = kb.ingest([corpus_copy])
    assert report.updated == [path.stem] and not report.added
    texts = [c.text for c in kb.store.get([c.chunk_id for c in kb.store.all_metadata()])]
    assert not any("第五次会议" in t for t in texts)
    assert any("第六次会议" in t for t in texts)
    assert kb.store.count() == before
    assert kb.keyword.chunk_ids == {c.metadata["chunk_id"] for c in kb.store.all_metadata()}


def test_prune_removes_documents_whose_files_are_gone(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    gone = next(corpus_copy.glob("001_*.txt"))
    gone.unlink()
    kept = kb.ingest([corpus_copy])
    assert gone.stem in {d.doc_id for d in kb.documents()}, "without --prune nothing is removed"
    assert kept.wrote_nothing
    pruned = kb.ingest([corpus_copy], prune=True)
    assert pruned.removed == [gone.stem]
    assert gone.stem not in {d.doc_id for d in kb.documents()}
    assert not any(kb.keyword.search("商务厅 向西开放", k=50, doc_ids={gone.stem}))


def test_a_bad_file_is_reported_and_the_rest_goes_on(make_kb, corpus_copy):
    (corpus_copy / "broken.pdf").write_bytes(b"not a pdf")
    report = make_kb().ingest([corpus_copy])
    assert len(report.added) == 5
    assert report.failed and report.failed[0][0].endswith("broken.pdf")


def test_keyword_index_out_of_step_is_rebuilt_on_open(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    kb.keyword.path.unlink()
    reopened = make_kb()
    assert reopened.keyword.chunk_ids == {c.metadata["chunk_id"] for c in reopened.store.all_metadata()}


def test_opening_with_another_embedding_model_is_a_clear_error(make_kb, corpus_copy, hash_embedder):
    make_kb().ingest([corpus_copy])

    class Other(type(hash_embedder)):
        model_id = "another-model"

    with pytest.raises(IndexMismatchError, match="re-index"):
        make_kb(embedder=Other())
