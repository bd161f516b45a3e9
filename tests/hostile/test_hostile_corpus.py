"""The hostile-input corpus (make_corpus.py) through ingestion: every bad file ends with its own
clear message, everything else is stored, and the indexes are exactly the good files."""

from __future__ import annotations

import pytest
from make_corpus import make_corpus

from rag.doctor import examine
from rag.pipeline import Assistant

pytestmark = pytest.mark.slow  # writes ~40 MB and indexes 6,000 chunks (hash embedder)


def test_every_hostile_file_gets_its_outcome_and_the_rest_is_stored(tmp_path, make_kb):
    corpus = tmp_path / "hostile"
    expected = make_corpus(corpus)
    kb = make_kb()
    report = kb.ingest([corpus])
    failed = {path.removeprefix(str(corpus) + "/"): reason for path, reason in report.failed}
    indexed = {d.source_path.removeprefix(str(corpus) + "/"): d for d in kb.documents()}
    for name, outcome in expected.items():
        if outcome == "ok":
            assert name in indexed and name not in failed, (name, failed.get(name))
        elif outcome == "absent":
            assert name not in indexed and name not in failed, name
        else:
            assert outcome in failed.get(name, ""), (name, failed.get(name))
            assert "\n" not in failed[name] and "Traceback" not in failed[name]
    assert indexed["records.txt"].chunks == 6000
    assert {indexed["A/notice.txt"].doc_id, indexed["B/notice.txt"].doc_id} == {
        "notice",
        indexed["B/notice.txt"].doc_id,
    }
    assert indexed["B/notice.txt"].doc_id.startswith("notice~")
    assert examine(kb, [corpus]).clean

    assistant = Assistant(kb.settings, kb=kb)
    texts = " ".join(p.text for p in assistant.search("熊猫基地门票", k=5).passages)
    assert "55元" in texts and "alert" not in texts and "注入" not in texts
    nul = assistant.search("现代服务业高质量发展 集聚区", k=10, doc_ids={indexed["nul.txt"].doc_id}).passages
    assert nul and "\x00" not in nul[0].text
