"""rag doctor: each kind of damage is found, and --repair leaves both indexes clean."""

from __future__ import annotations

import numpy as np
import pytest

from rag.doctor import examine, repair
from vectorstore.keyword import KeywordIndex


def kinds(report) -> list[str]:
    return sorted(f.kind for f in report.findings)


@pytest.fixture
def built(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb, corpus_copy


def test_a_fresh_ingest_is_clean(built):
    kb, corpus = built
    report = examine(kb, [corpus])
    assert report.clean, report.lines()
    assert (report.documents, report.chunks) == (5, len(kb.keyword)) and report.records >= report.chunks
    assert report.lines()[-1].startswith("clean")


def test_orphans_stale_and_missing_files_are_found_and_repaired(built, make_kb):
    kb, corpus = built
    next(corpus.glob("001_*.txt")).unlink()
    changed = next(corpus.glob("004_*.txt"))
    changed.write_text(
        changed.read_text(encoding="utf-8").replace("生活性服务业", "生活服务业"), encoding="utf-8"
    )
    (corpus / "new.txt").write_text("新增：乐山市推进文旅融合发展。", encoding="utf-8")
    report = examine(make_kb(), [corpus])
    assert kinds(report) == ["missing", "orphan", "stale"]
    assert "changed since it was indexed" in next(f.detail for f in report.findings if f.kind == "stale")
    repaired = repair(make_kb(), report, [corpus])
    assert repaired.clean, repaired.lines()
    assert any(line.startswith("✓ removed 1 document") for line in repaired.repaired)
    assert {d.doc_id for d in make_kb().documents()} == {p.stem for p in corpus.glob("*.txt")}


def test_an_interrupted_update_is_incomplete_until_repaired(built, make_kb, monkeypatch):
    kb, corpus = built
    path = next(corpus.glob("003_*.txt"))
    path.write_text(
        path.read_text(encoding="utf-8").replace("更好推动高水平", "更好推动高质量"), encoding="utf-8"
    )
    dying = make_kb()
    monkeypatch.setattr(dying.store, "delete", lambda ids: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        dying.ingest([corpus])
    report = examine(make_kb(), [corpus])
    assert kinds(report) == ["incomplete"]
    assert repair(make_kb(), report, [corpus]).clean


def test_chunks_made_with_other_settings_are_found(built, make_kb):
    kb, corpus = built
    report = examine(make_kb(chunk_size=120), [corpus])
    assert set(kinds(report)) == {"chunks"} and "chunked with other settings" in report.findings[0].detail
    assert repair(make_kb(chunk_size=120), report, [corpus]).clean
    assert examine(make_kb(chunk_size=120), [corpus]).clean


def test_duplicates_and_a_wrong_keyword_file_are_found_and_repaired(built, make_kb):
    kb, corpus = built
    victim = kb.store.all_metadata()[0]
    stored = kb.store.get([victim.chunk_id])[0]
    forged = {**stored.metadata, "doc_id": "someone-else"}
    kb.store.upsert(
        [victim.chunk_id + "-copy"], [stored.text], [forged], np.zeros((1, 256), np.float32) + 0.1
    )
    keyword_file = KeywordIndex(kb.keyword.path, terms=kb.keyword.terms)
    dropped = sorted(keyword_file.chunk_ids)[:3]
    keyword_file.remove(dropped)
    keyword_file.add("ghost:0000", "ghost", "不存在的段落")
    keyword_file.save()
    report = examine(make_kb(), [corpus])
    assert "duplicate" in kinds(report) and "keyword" in kinds(report)
    keyword = next(f for f in report.findings if f.kind == "keyword")
    assert keyword.detail.startswith("3 chunk(s) missing, 1 extra")
    repaired = repair(make_kb(), report, [corpus])
    assert repaired.clean, repaired.lines()
    saved = KeywordIndex(kb.keyword.path, terms=kb.keyword.terms).chunk_ids
    assert "ghost:0000" not in saved and set(dropped) <= saved
