"""The latest word: a newer document that repeals an older one is linked to it, and an answer
citing the older one says so and quotes the newer figure (a generated pair of documents)."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_pair import NEW, OLD

from rag.metadata import extract_metadata, find_supersedes
from rag.supersede import link_documents
from ui.sources import passage_card


def test_repeal_sentences_name_the_old_documents():
    assert find_supersedes(
        "自印发之日起施行，《四川省服务业发展规划(2018-2020年)》（川办发〔2018〕5号）同时废止。"
    ) == [
        "四川省服务业发展规划(2018-2020年)",
        "川办发〔2018〕5号",
    ]
    assert find_supersedes("决定废止《成都市绿道管理办法》。") == ["成都市绿道管理办法"]
    assert find_supersedes("原成都市服务业扶持政策不再执行。") == ["成都市服务业扶持政策"]
    assert find_supersedes("四川省成功创建49个省级现代服务业集聚区。") == []
    assert extract_metadata(NEW).supersedes == "四川省服务业发展规划(2018—2020年)"


def test_references_link_by_title_or_number_and_never_to_a_later_document():
    documents = {
        "old": {
            "title": extract_metadata(OLD).title,
            "doc_number": "川办发〔2018〕5号",
            "date": "2018-03-01",
        },
        "new": {"title": "新规划", "date": "2021-06-15", "supersedes": "四川省服务业发展规划(2018-2020年)"},
        "by_number": {"title": "另一个", "date": "2019-01-01", "supersedes": "川办发〔2018〕5号"},
        "too_old": {"title": "更早", "date": "2017-01-01", "supersedes": "川办发〔2018〕5号"},
    }
    links = link_documents(documents)
    assert set(links) == {"old"} and links["old"].new == "new"  # the newest of those that repeal it
    assert link_documents({"a": {"title": "x", "supersedes": "x"}}) == {}


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    folder = tmp_path / "pair"
    folder.mkdir()
    (folder / "plan_2018.txt").write_text(OLD, encoding="utf-8")
    (folder / "plan_2021.txt").write_text(NEW, encoding="utf-8")
    return folder


def test_an_answer_citing_the_repealed_plan_says_so_and_gives_the_newer_figure(
    pair, make_kb, hash_embedder, lexical_evidence
):
    from rag.pipeline import Assistant

    kb = make_kb()
    assert sorted(kb.ingest([pair]).added) == ["plan_2018", "plan_2021"]
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    answer = assistant.ask("到2020年全省建成省级现代服务业集聚区多少个？", doc_ids={"plan_2018"})
    assert answer.citations[0].doc_id == "plan_2018" and "30个" in answer.citations[0].span
    assert "已被废止或替代" in answer.text and "川办发〔2021〕12号" in answer.text
    newer = answer.citations[-1]
    assert newer.doc_id == "plan_2021" and "60个" in newer.span and f"[{newer.n}]" in answer.text
    old = next(p for p in answer.passages if p.doc_id == "plan_2018")
    assert old.superseded_by == "plan_2021"
    assert "Superseded by" in passage_card(old) and 'data-newer="plan_2021"' in passage_card(old)
    assert all(p.superseded_by is None for p in answer.passages if p.doc_id == "plan_2021")


def test_an_answer_from_the_current_plan_is_left_alone(pair, make_kb, hash_embedder, lexical_evidence):
    from rag.pipeline import Assistant

    kb = make_kb()
    kb.ingest([pair])
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    answer = assistant.ask("到2025年全省建成省级现代服务业集聚区多少个？", doc_ids={"plan_2021"})
    assert answer.citations and "已被废止" not in answer.text


def test_a_sidecar_can_declare_what_a_document_replaces(tmp_path: Path):
    from rag.load import load_document

    (tmp_path / "note.txt").write_text("关于调整集聚区目标的通知\n\n目标调整为60个。", encoding="utf-8")
    (tmp_path / "note.meta.toml").write_text(
        'supersedes = ["川办发〔2018〕5号", "plan_2018"]\n', encoding="utf-8"
    )
    assert load_document(tmp_path / "note.txt").meta.supersedes == "川办发〔2018〕5号；plan_2018"


def test_when_both_plans_are_cited_the_note_points_to_the_newer_citation(
    pair, make_kb, hash_embedder, lexical_evidence
):
    from rag.pipeline import Assistant

    kb = make_kb()
    kb.ingest([pair])
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    answer = assistant.ask("全省建成省级现代服务业集聚区的目标是多少个？")
    by_doc = {c.doc_id: c.n for c in answer.citations}
    assert set(by_doc) == {"plan_2018", "plan_2021"} and len(answer.citations) == 2  # no repeated quote
    assert f"注意：[{by_doc['plan_2018']}]" in answer.text and f"见 [{by_doc['plan_2021']}]" in answer.text


def test_the_note_is_in_the_answer_language():
    from rag.supersede import Link, _note
    from rag.types import Citation

    cited = Citation(1, "c", "old", "旧", None, "", "到2020年建成30个。", 0, 10, 0, 10)
    link = Link("old", "new", "新规划", "2021-06-15", "川办发〔2021〕12号")
    english = _note(cited, link, None, english=True, quote=False)
    assert (
        english
        == "Note: [1] cites a document that was repealed or replaced by 新规划 (川办发〔2021〕12号, 2021-06-15)."
    )
    assert _note(cited, link, None, english=False, quote=False).startswith(
        "注意：[1] 出自已被废止或替代的文件"
    )


def test_two_documents_with_different_figures_for_the_same_thing_are_both_shown_with_dates():
    from rag.supersede import _conflict_note, conflicts
    from rag.types import Citation

    def cite(n, doc, date, text):
        return Citation(n, f"{doc}:c", doc, doc, date, "", text, 0, len(text), 0, len(text))

    old = cite(1, "a", "2019-05-01", "全省建成省级现代服务业集聚区30个。")
    new = cite(2, "b", "2022-03-01", "全省建成省级现代服务业集聚区45个。")
    other = cite(3, "c", "2022-03-01", "成都市绿道总长度达到5000公里。")
    same = cite(4, "d", "2020-01-01", "全省建成省级现代服务业集聚区30个。")
    assert conflicts([new, old, other, same]) == [(old, new), (same, new)]
    assert conflicts([old, new], {("a", "b")}) == []  # linked as old and new: the repeal note says it
    assert _conflict_note(old, new, english=False) == (
        "注意：[1]（2019-05-01）与 [2]（2022-03-01）给出的数字不同，请以现行、较新的文件为准。"
    )
    assert "[1] (2019-05-01) and [2] (2022-03-01)" in _conflict_note(old, new, english=True)


def test_the_note_on_a_superseded_passage_is_streamed_with_the_answer(
    pair, make_kb, hash_embedder, lexical_evidence
):
    from rag.pipeline import Assistant
    from rag.types import Answer

    kb = make_kb()
    kb.ingest([pair])
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    events = list(assistant.ask_stream("到2020年全省建成省级现代服务业集聚区多少个？", doc_ids={"plan_2018"}))
    answer = events[-1]
    assert isinstance(answer, Answer) and "已被废止或替代" in answer.text
    streamed = "".join(e for e in events if isinstance(e, str))
    assert streamed.strip() == answer.text.strip()  # the UI shows no "revised after checking" note
