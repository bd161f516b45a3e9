"""One writer, many readers across processes: writer lock, commit lock, change marker, reopen.

Cross-process cases run a second Python process over the same on-disk Chroma (hash embedder)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from rag.index import KnowledgeBase
from rag.locks import StoreBusyError, StoreGuard, guard_for
from rag.pipeline import Assistant
from rag.settings import PROJECT_ROOT, Settings
from vectorstore.chroma_store import make_client

CHILD_PRELUDE = """
import sys, time
from pathlib import Path
sys.path.insert(0, "tests")
from fakes import HashEmbedder
from rag.index import KnowledgeBase
from rag.settings import Settings
from vectorstore.chroma_store import make_client
data = Path(sys.argv[1])
settings = Settings(data_dir=data, collection="live", progress=False)
kb = KnowledgeBase(settings=settings, embedder=HashEmbedder(), client=make_client(persist_dir=settings.chroma_dir))
"""


def run_child(body: str, *args: str, wait: bool = True):
    code = CHILD_PRELUDE + textwrap.dedent(body)
    command = [sys.executable, "-c", code, *args]
    if not wait:
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_second_writer_is_told_who_writes_and_gives_up_after_the_timeout(tmp_path):
    holder = run_child(
        """
        with kb.writing():
            print("holding", flush=True)
            time.sleep(30)
        """,
        str(tmp_path),
        wait=False,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        told: list[str] = []
        guard = guard_for(tmp_path)
        busy = pytest.raises(StoreBusyError, match=rf"pid {holder.pid}.*after 0 s \(write_lock_timeout\)")
        with busy, guard.writer(timeout=0.3, waiting=told.append):
            pass
        assert len(told) == 1 and f"pid {holder.pid}" in told[0] and "waiting up to 0 s" in told[0]
    finally:
        holder.kill()
        holder.wait()
    with guard.writer(timeout=5):  # a killed writer leaves no lock behind
        pass


def test_the_change_marker_moves_on_every_bump(tmp_path):
    guard = StoreGuard(tmp_path / "locks")
    first = guard.generation()
    assert guard.bump() != first
    assert guard.generation() != first


def test_a_commit_waits_for_readers_and_readers_wait_for_a_commit(tmp_path):
    guard = StoreGuard(tmp_path / "locks")
    events: list[str] = []
    reading = threading.Event()

    def reader():
        with guard.shared():
            reading.set()
            time.sleep(0.3)
            events.append("read done")

    thread = threading.Thread(target=reader)
    thread.start()
    reading.wait(5)
    with guard.exclusive():
        events.append("commit")
    thread.join()
    assert events == ["read done", "commit"]
    with guard.shared(), guard.shared():  # re-entrant within a thread
        pass


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parks.txt").write_text("成都市公园城市建设：全市建成绿道6000公里。", encoding="utf-8")
    (folder / "roads.txt").write_text("绵阳市道路建设：新建道路120公里，改造桥梁8座。", encoding="utf-8")
    return folder


def test_a_reader_sees_another_processes_ingest_without_errors(tmp_path, hash_embedder):
    docs = corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", collection="live", progress=False)
    run_child("kb.ingest([Path(sys.argv[2])])\n", str(settings.data_dir), str(docs))
    kb = KnowledgeBase(
        settings=settings, embedder=hash_embedder, client=make_client(persist_dir=settings.chroma_dir)
    )
    assistant = Assistant(settings, kb=kb)
    assert assistant.search("绿道多少公里").passages[0].doc_id == "parks"
    # another process adds a document, changes one (its old chunk is deleted) and prunes one
    (docs / "bridges.txt").write_text("德阳市桥梁建设：新建跨江大桥3座。", encoding="utf-8")
    (docs / "roads.txt").write_text("绵阳市道路建设：新建道路150公里。", encoding="utf-8")
    (docs / "parks.txt").unlink()
    out = run_child(
        "r = kb.ingest([Path(sys.argv[2])], prune=True); print(r.added, r.updated, r.removed)\n",
        str(settings.data_dir),
        str(docs),
    )
    assert out.strip() == "['bridges'] ['roads'] ['parks']"
    for _ in range(3):  # before the fix: chromadb InternalError "Error finding id" here
        passages = assistant.search("跨江大桥多少座").passages
        assert passages[0].doc_id == "bridges"
        assert {p.doc_id for p in assistant.search("道路 公里", mode="dense").passages} == {
            "bridges",
            "roads",
        }
    assert {d.doc_id for d in kb.documents()} == {"bridges", "roads"}
    assert kb.keyword.search("绿道", k=5) == [] and kb.keyword.search("跨江大桥", k=1)[0][0].startswith(
        "bridges:"
    )


def test_readers_keep_answering_while_another_process_ingests(tmp_path, hash_embedder):
    docs = corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", collection="live", progress=False)
    run_child("kb.ingest([Path(sys.argv[2])])\n", str(settings.data_dir), str(docs))
    kb = KnowledgeBase(
        settings=settings, embedder=hash_embedder, client=make_client(persist_dir=settings.chroma_dir)
    )
    assistant = Assistant(settings, kb=kb)
    for i in range(40):
        (docs / f"extra{i}.txt").write_text(
            f"第{i}号补充文件：眉山市第{i}项服务业工程已经开工。", encoding="utf-8"
        )
    writer = run_child(
        """
        import rag.index
        rag.index._COMMIT_SECONDS = 0  # commit after every file: many changes while readers read
        for round in range(3):
            for path in sorted(Path(sys.argv[2]).glob("extra*.txt")):
                path.write_text(path.read_text(encoding="utf-8") + f"修订{round}。", encoding="utf-8")
            kb.ingest([Path(sys.argv[2])])
        print("done", flush=True)
        """,
        str(settings.data_dir),
        str(docs),
        wait=False,
    )
    errors: list[str] = []
    answered = 0
    while writer.poll() is None:
        try:
            answer = assistant.ask("眉山市第7项服务业工程")
            answered += 1
            assert answer.passages
        except Exception as exc:  # any error at all fails the test
            errors.append(f"{type(exc).__name__}: {exc}")
    assert writer.returncode == 0, writer.stderr.read()[-3000:]
    assert errors == [] and answered >= 3
    final = assistant.ask("第7号补充文件 眉山市第7项服务业工程")
    assert final.passages[0].doc_id == "extra7" and "修订2" in final.passages[0].text


def test_a_servers_other_requests_meet_no_error_while_its_answers_reopen_the_store(tmp_path, hash_embedder):
    """`rag api` answers one question at a time, but its other requests (which knowledge base a
    model names, /health) run beside the answer, which reopens the client after another process's
    commit. Before the fix /health counted outside the read lock, could bind the collection to the
    client being closed and failed from then on ("'RustBindingsAPI' object has no attribute
    'bindings'"); listing the collections had the same gap (the likely HTTP 500 of
    bench/results/load.json; see the next test)."""
    from rag.api.app import assistant_for, health_of
    from rag.pool import AssistantPool

    docs = corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", collection="live", progress=False)
    run_child("kb.ingest([Path(sys.argv[2])])\n", str(settings.data_dir), str(docs))
    client = make_client(persist_dir=settings.chroma_dir)

    def factory(s: Settings) -> Assistant:
        return Assistant(s, kb=KnowledgeBase(settings=s, embedder=hash_embedder, client=client))

    pool = AssistantPool(settings, factory=factory, client=client)
    assistant = pool.default
    for i in range(30):
        (docs / f"extra{i}.txt").write_text(f"第{i}号补充文件：眉山市第{i}项工程已经开工。", encoding="utf-8")
    writer = run_child(
        """
        import rag.index
        rag.index._COMMIT_SECONDS = 0  # a commit after every file: many reopens for the readers
        for round in range(3):
            for path in sorted(Path(sys.argv[2]).glob("extra*.txt")):
                path.write_text(path.read_text(encoding="utf-8") + f"修订{round}。", encoding="utf-8")
            kb.ingest([Path(sys.argv[2])])
        """,
        str(settings.data_dir),
        str(docs),
        wait=False,
    )
    errors: list[str] = []
    side_requests = 0

    def side() -> None:
        nonlocal side_requests
        while writer.poll() is None:
            try:
                assert assistant_for(pool, "tianfu-rag") is assistant  # lists the collections
                assert health_of(pool)["chunks"] > 0
                side_requests += 1
            except Exception as exc:  # any error at all fails the test
                errors.append(f"side: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=side)
    thread.start()
    while writer.poll() is None:
        try:
            assistant.search("眉山市第7项工程")
        except Exception as exc:
            errors.append(f"answer: {type(exc).__name__}: {exc}")
    thread.join()
    assert writer.returncode == 0, writer.stderr.read()[-3000:]
    assert errors == [] and side_requests > 10


def test_listing_the_knowledge_bases_waits_while_the_client_is_reopened(tmp_path):
    """Reopening closes the old client before the new one exists; a request listing the
    collections meanwhile (every API request does) used the closed client: it must wait."""
    from rag.pool import AssistantPool

    settings = Settings(data_dir=tmp_path / "data", collection="live", progress=False)
    pool = AssistantPool(settings, client=make_client(persist_dir=settings.chroma_dir))
    guard = guard_for(settings.data_dir)
    listed: list[list[str]] = []
    with guard.shared(), guard.upgraded():  # where KnowledgeBase.reading reopens the client
        lister = threading.Thread(target=lambda: listed.append(pool.collections()))
        lister.start()
        lister.join(0.5)
        assert lister.is_alive() and listed == []  # before the fix: listed while reopening
    lister.join(5)
    assert listed == [["live"]]
