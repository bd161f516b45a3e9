"""Knowledge base tab: uploads with per-file errors, deletion from both indexes, re-indexing,
collections."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from ui import knowledge


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "熊猫基地门票\n\n成都大熊猫繁育研究基地的门票价格是55元。游客可以在线预约。\n"


def test_upload_stores_and_indexes_good_files_and_reports_bad_ones(make_pool, tmp_path):
    pool = make_pool(max_upload_mb=1)
    collection = pool.default_collection
    files = [
        (write(tmp_path / "in" / "panda.txt", GOOD), "panda.txt"),
        (write(tmp_path / "in" / "notes.exe", "x"), "notes.exe"),
        (write(tmp_path / "in" / "big.md", "大" * (1024 * 1024)), "big.md"),
        (write(tmp_path / "in" / "empty.txt", ""), "empty.txt"),
    ]
    seen = []
    report = knowledge.upload_files(pool, collection, files, progress=lambda f, t: seen.append(f))
    outcome = {o.name: o for o in report.outcomes}
    assert outcome["panda.txt"].ok and "已添加 added" in outcome["panda.txt"].message
    assert (
        not outcome["notes.exe"].ok
        and "不支持的文件类型 unsupported type .exe" in outcome["notes.exe"].message
    )
    assert not outcome["big.md"].ok and "上限 limit 1 MB" in outcome["big.md"].message
    assert not outcome["empty.txt"].ok and outcome["empty.txt"].message == "文件是空的 the file is empty"
    assert (pool.uploads_dir(collection) / "panda.txt").is_file()
    assert sorted(p.name for p in pool.uploads_dir(collection).iterdir()) == ["panda.txt"]
    assert [d.doc_id for d in pool.get(collection).kb.documents()] == ["panda"]
    assert seen[-1] == 1.0 and "1/4" in report.summary()


def make_docx(path, text: str):
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def test_a_replacement_that_fails_keeps_the_earlier_file(make_pool, tmp_path):
    pool = make_pool()
    collection = pool.default_collection
    good = make_docx(tmp_path / "a" / "doc.docx", GOOD)
    assert knowledge.upload_files(pool, collection, [(good, "doc.docx")]).outcomes[0].ok
    broken = tmp_path / "b" / "doc.docx"
    broken.parent.mkdir()
    broken.write_bytes(b"PK this is not a zip file")
    report = knowledge.upload_files(pool, collection, [(broken, "doc.docx")])
    assert not report.outcomes[0].ok and "cannot parse DOCX" in report.outcomes[0].message
    stored = pool.uploads_dir(collection) / "doc.docx"
    assert stored.read_bytes() == good.read_bytes()
    assert [p.name for p in pool.uploads_dir(collection).iterdir()] == ["doc.docx"]
    assert [d.doc_id for d in pool.get(collection).kb.documents()] == ["doc"]


def test_upload_names_cannot_escape_the_uploads_folder(make_pool, tmp_path):
    pool = make_pool()
    source = write(tmp_path / "x.txt", GOOD)
    report = knowledge.upload_files(pool, pool.default_collection, [(source, "../../etc/evil.txt")])
    assert report.outcomes[0].ok and (pool.uploads_dir(pool.default_collection) / "evil.txt").is_file()
    assert knowledge.safe_name(".hidden.md") == "hidden.md"
    with pytest.raises(ValueError, match="not a usable file name"):
        knowledge.safe_name("..")


def test_no_files_is_a_clear_error(make_pool):
    pool = make_pool()
    with pytest.raises(ValueError, match="请先选择文件。 No files selected."):
        knowledge.upload_files(pool, pool.default_collection, [])


def test_delete_removes_chunks_from_both_indexes_and_the_upload(make_pool, tmp_path):
    pool = make_pool()
    collection = pool.default_collection
    knowledge.upload_files(pool, collection, [(write(tmp_path / "panda.txt", GOOD), "panda.txt")])
    kb = pool.get(collection).kb
    assert kb.store.count() and len(kb.keyword)
    message = knowledge.delete_documents(pool, collection, ["panda"])
    assert message == "已删除 deleted 1 篇文档 documents, 1 段 chunks"
    assert kb.store.count() == 0 and len(kb.keyword) == 0
    assert not (pool.uploads_dir(collection) / "panda.txt").exists()
    with pytest.raises(ValueError, match="没有这些文档 no such documents: nope"):
        knowledge.delete_documents(pool, collection, ["nope"])


def test_deleting_a_corpus_document_keeps_its_file(corpus_pool, corpus_copy):
    collection = corpus_pool.default_collection
    doc = next(d for d in corpus_pool.get(collection).kb.documents() if d.doc_id.startswith("002"))
    knowledge.delete_documents(corpus_pool, collection, [doc.doc_id])
    assert (corpus_copy / f"{doc.doc_id}.txt").is_file()
    assert doc.doc_id not in {d.doc_id for d in corpus_pool.get(collection).kb.documents()}


def test_reindex_reads_corpus_and_uploads_and_prunes_missing_files(corpus_pool, corpus_copy, tmp_path):
    collection = corpus_pool.default_collection
    knowledge.upload_files(corpus_pool, collection, [(write(tmp_path / "panda.txt", GOOD), "panda.txt")])
    (corpus_copy / next(p.name for p in corpus_copy.iterdir() if p.name.startswith("003"))).unlink()
    message = knowledge.reindex(corpus_pool, collection)
    assert "移除 removed 1 篇文档 documents" in message and "unchanged 5" in message
    ids = {d.doc_id[:3] for d in corpus_pool.get(collection).kb.documents()}
    assert ids == {"000", "001", "002", "004", "pan"}


def test_rebuild_starts_from_an_empty_collection(corpus_pool):
    collection = corpus_pool.default_collection
    old = corpus_pool.get(collection)
    message = knowledge.reindex(corpus_pool, collection, rebuild=True)
    assert "已重新索引 re-indexed: 新增 added 5" in message and corpus_pool.get(collection) is not old


def test_reindex_with_nothing_to_read_says_so(make_pool):
    pool = make_pool()
    with pytest.raises(ValueError, match="upload files first"):
        knowledge.reindex(pool, f"{make_pool.prefix}-other")


def test_collections_are_listed_and_created_by_name(make_pool):
    pool = make_pool()
    name = f"{make_pool.prefix}-new"
    assert pool.collections()[0] == pool.default_collection
    assert pool.create(name) == name and name in pool.collections()
    with pytest.raises(ConfigError, match="名称「a b」不可用.*letters, digits"):
        pool.create("a b")
    with pytest.raises(ConfigError, match="已存在 .*already exists|已存在。 The knowledge base"):
        pool.create(name)
    with pytest.raises(ConfigError, match="请给新知识库起个名字。 Give"):
        pool.create("  ")
    assert pool.get(name) is pool.get(name)  # one Assistant per collection


def test_questions_are_answered_while_an_upload_embeds(corpus_pool, tmp_path):
    """A big upload no longer holds the collection's write lock while it embeds (it held a chat
    question for the whole upload)."""
    import threading

    collection = corpus_pool.default_collection
    kb = corpus_pool.get(collection).kb
    embedding, release = threading.Event(), threading.Event()
    real = kb.embedder.embed_passages

    def slow(texts):
        if threading.current_thread() is upload:  # only the upload's embedding waits
            embedding.set()
            release.wait(60)
        return real(texts)

    kb.embedder.embed_passages = slow
    upload = threading.Thread(
        target=knowledge.upload_files,
        args=(corpus_pool, collection, [(write(tmp_path / "panda.txt", GOOD), "panda.txt")]),
    )
    upload.start()
    try:
        assert embedding.wait(30)
        answered: list = []

        def ask() -> None:
            with corpus_pool.lock(collection).read():
                answered.append(corpus_pool.get(collection).ask("集聚区有多少个？"))

        ask = threading.Thread(target=ask)
        ask.start()
        ask.join(30)
        assert not ask.is_alive() and answered, "the question waited for the upload"
    finally:
        release.set()
        upload.join(60)
        kb.embedder.embed_passages = real
    assert "panda" in {d.doc_id for d in kb.documents()}
