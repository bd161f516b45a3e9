"""``Assistant.ask_stream``: stage events before each stage, the extractive answer in sentence-sized
pieces, and ``ask`` / the CLI printer unaffected by the stage events."""

from __future__ import annotations

import pytest

from rag.commands import print_stream
from rag.pipeline import Assistant, _pieces
from rag.types import Answer, Citation, Stage

CLUSTERS = "四川省成功创建了多少个省级现代服务业集聚区？"


@pytest.fixture
def assistant(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return Assistant(kb.settings, kb=kb)


def test_stages_come_before_the_pieces_and_the_answer_last(assistant):
    events = list(assistant.ask_stream(CLUSTERS))
    stages = [e.name for e in events if isinstance(e, Stage)]
    assert stages == ["retrieving", "answering", "verifying"]
    assert events[0] == Stage("retrieving") and isinstance(events[-1], Answer)
    pieces = [e for e in events if isinstance(e, str)]
    assert events.index(pieces[0]) > events.index(Stage("verifying"))  # the checked text is streamed
    assert "".join(pieces) == events[-1].text


def test_without_verification_there_is_no_verifying_stage(make_kb, corpus_copy):
    kb = make_kb(verify_citations=False)
    kb.ingest([corpus_copy])
    events = list(Assistant(kb.settings, kb=kb).ask_stream(CLUSTERS))
    assert [e.name for e in events if isinstance(e, Stage)] == ["retrieving", "answering"]


def test_ask_returns_the_answer_of_the_stream(assistant):
    answer = assistant.ask(CLUSTERS)
    assert isinstance(answer, Answer) and "49" in answer.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "四川省建成49个集聚区。 [1] 另有100个。[2][3]\n\n第二段。",
            ["四川省建成49个集聚区。 [1] ", "另有100个。[2][3]\n\n", "第二段。"],
        ),
        (
            "Sichuan has 49 clusters [1]. It has 3.5 more. [2]",
            ["Sichuan has 49 clusters [1]. ", "It has 3.5 more. [2]"],
        ),
        ("没有标点", ["没有标点"]),
        ("", []),
    ],
)
def test_a_finished_answer_is_cut_into_sentences_that_join_back(text, expected):
    assert list(_pieces(text)) == expected


def test_a_stage_must_be_one_of_the_three():
    with pytest.raises(ValueError, match="got 'thinking'"):
        Stage("thinking")


def test_the_cli_printer_skips_stages(capsys):
    citation = Citation(1, "c1", "000_doc", "通报", "2020-06-01", "", "成功创建49个集聚区。", 0, 10, 5, 15)
    events = [Stage("retrieving"), "成功创建49个集聚区。 [1]", Stage("verifying")]
    events.append(Answer("问题？", "成功创建49个集聚区。 [1]", [citation], False, "zh-Hans"))
    print_stream(iter(events))
    assert capsys.readouterr().out.startswith("成功创建49个集聚区。 [1]\n[1] 000_doc")


def test_highlights_are_listed_as_pairs():
    citation = Citation(
        1, "c", "d", None, None, "", "成功创建49个集聚区。", 0, 11, 0, 11, highlights=((4, 7),)
    )
    assert citation.to_dict()["highlights"] == [[4, 7]]
    assert Citation(1, "c", "d", None, None, "", "x", 0, 1, 0, 1).to_dict()["highlights"] == []
