"""Ingestion with a fake embedder and an in-memory Chroma: re-ingest, change, prune, mismatch."""

import uuid

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


# --- issue 10: ids per source path, prune, batches, per-file failures, crash safety --------------


def chunk_ids(kb) -> set[str]:
    return {c.chunk_id for c in kb.store.all_metadata()}


def test_same_file_name_in_two_folders_gives_two_documents_with_stable_ids(make_kb, tmp_path):
    a, b = tmp_path / "A" / "notice.txt", tmp_path / "B" / "notice.txt"
    for path, text in (
        (a, "成都市发布第一号通知，内容关于公园。"),
        (b, "绵阳市发布第二号通知，内容关于道路。"),
    ):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    kb = make_kb()
    assert kb.ingest([tmp_path / "A"]).added == ["notice"]
    second = kb.ingest([tmp_path / "B"])
    assert len(second.added) == 1 and second.added[0].startswith("notice~") and not second.updated
    docs = {d.doc_id: d.source_path for d in kb.documents()}
    assert docs == {"notice": str(a), second.added[0]: str(b)}
    again = make_kb().ingest([tmp_path / "B", tmp_path / "A"])
    assert again.wrote_nothing and sorted(again.unchanged) == sorted(docs)


def test_a_moved_corpus_keeps_its_document_ids(make_kb, tmp_path, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    before = chunk_ids(kb)
    moved = corpus_copy.rename(tmp_path / "moved")
    report = kb.ingest([moved], prune=True)
    assert sorted(report.updated) == sorted(p.stem for p in moved.glob("*.txt")) and not report.removed
    assert report.chunks_written == 0 and chunk_ids(kb) == before  # nothing re-embedded
    assert {d.source_path for d in kb.documents()} == {str(p) for p in moved.glob("*.txt")}


def test_prune_removes_only_documents_whose_files_are_gone(make_kb, tmp_path, corpus_copy):
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text("德阳市的一份额外通知，关于绿化工作。", encoding="utf-8")
    kb = make_kb()
    kb.ingest([corpus_copy])
    kb.ingest([other])
    report = kb.ingest([other], prune=True)  # the corpus files were not named, but they exist
    assert report.removed == [] and len(kb.documents()) == 6
    (other / "extra.txt").unlink()
    assert kb.ingest([corpus_copy], prune=True).removed == ["extra"]


def test_an_ingest_over_chromas_max_batch_size_is_written_in_batches(make_kb, tmp_path):
    records = "\n\n".join(f"{i}.记录{i}\n\n第{i}号记录：四川省服务业项目编号{i}。" for i in range(6000))
    path = tmp_path / "records.txt"  # a numbered heading per record: 6,000 sections, 6,000 chunks
    path.write_text(records, encoding="utf-8")
    kb = make_kb()
    assert kb.store.batch_size == kb.store.handle.get_max_batch_size() < 6000
    report = kb.ingest([path])
    assert report.chunks_written == 6000 and not report.failed
    assert kb.store.count() == 6000 and len(kb.keyword) == 6000


def test_a_bad_or_oversized_file_costs_only_itself(make_kb, corpus_copy):
    (corpus_copy / "huge.txt").write_text("四" * 15_000, encoding="utf-8")
    (corpus_copy / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = make_kb(max_document_chars=12_000).ingest([corpus_copy])
    failed = dict(report.failed)
    assert "document too long" in failed[str(corpus_copy / "huge.txt")]
    assert "cannot parse DOCX" in failed[str(corpus_copy / "broken.docx")]
    assert len(report.added) == 5


def test_a_fifo_is_reported_and_skipped(make_kb, tmp_path):
    import os

    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    report = make_kb().ingest([fifo])
    assert report.failed == [
        (str(fifo), f"cannot load {fifo}: not a regular file (a folder, FIFO or device): skipped")
    ]


class Killed(BaseException):
    """Stands in for SIGKILL inside one process: nothing after it runs."""


def killing(monkeypatch, kb, method: str, after_calls: int = 0):
    real = getattr(kb.store, method)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Killed(method)
        return real(*args, **kwargs)

    monkeypatch.setattr(kb.store, method, dying)


@pytest.mark.parametrize(
    ("method", "after"), [("upsert", 0), ("upsert", 1), ("delete", 0), ("update_metadata", 0)]
)
def test_an_update_killed_at_any_step_is_completed_by_the_next_run(
    monkeypatch, make_kb, corpus_copy, method, after
):
    kb = make_kb()
    kb.ingest([corpus_copy])
    path = next(corpus_copy.glob("003_*.txt"))
    text = path.read_text(encoding="utf-8")
    edited = text.replace("更好推动高水平区域协调发展", "更好推动高质量区域协调发展")  # near the end:
    assert edited != text
    path.write_text(edited, encoding="utf-8")  # the first chunks are kept, the last ones change
    (corpus_copy / "new.txt").write_text("新增的一份文件：眉山市推进服务业发展。\n" * 40, encoding="utf-8")
    dying = make_kb()
    dying.store.batch_size = 1  # a write per record, so a kill can land between any two
    killing(monkeypatch, dying, "_upsert_batch" if method == "upsert" else method, after)  # each write
    with pytest.raises(Killed):
        dying.ingest([corpus_copy])
    resumed = make_kb().ingest([corpus_copy])
    assert path.stem in resumed.updated + resumed.added or "new" in resumed.added
    fresh = make_kb(collection=f"fresh-{uuid.uuid4().hex[:8]}")  # in-memory stores are shared
    fresh.ingest([corpus_copy])
    survivor = make_kb()
    assert chunk_ids(survivor) == chunk_ids(fresh)
    assert survivor.keyword.chunk_ids == {c.metadata["chunk_id"] for c in fresh.store.all_metadata()}
    assert make_kb().ingest([corpus_copy]).wrote_nothing


def test_files_committed_together_are_written_in_one_call_and_one_by_one_when_that_fails(
    monkeypatch, make_kb, corpus_copy
):
    kb = make_kb()
    calls: list[int] = []
    real = kb.store.upsert
    monkeypatch.setattr(kb.store, "upsert", lambda ids, *rest: calls.append(len(ids)) or real(ids, *rest))
    report = kb.ingest([corpus_copy])  # five files, prepared within one commit window
    assert len(report.added) == 5 and len(calls) == 1 and calls[0] == kb.store.count()

    again = make_kb(collection="one-by-one")
    bad = next(corpus_copy.glob("002_*")).stem
    writes = again.store.upsert

    def refusing(ids, texts, metadatas, vectors):
        if any(m["doc_id"] == bad for m in metadatas):
            raise RuntimeError("the server refused this batch")
        return writes(ids, texts, metadatas, vectors)

    monkeypatch.setattr(again.store, "upsert", refusing)
    report = again.ingest([corpus_copy])
    assert bad not in report.added and len(report.added) == 4
    assert [path for path, _ in report.failed] == [str(next(corpus_copy.glob("002_*")))]
    assert bad not in {d.doc_id for d in again.documents()} and len(again.documents()) == 4
