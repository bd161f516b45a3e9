"""`rag ask` (without --json) prints the answer as it streams, then the checked text and sources."""

from __future__ import annotations

from rag.commands import print_stream
from rag.types import Answer, Citation

CITATION = Citation(1, "c1", "000_doc", "通报", "2020-06-01", "", "成功创建49个集聚区。", 0, 10, 5, 15)


def test_pieces_are_printed_as_they_come_then_the_sources(capsys):
    def events():
        yield "成功创建"
        assert capsys.readouterr().out == "成功创建"  # already on the terminal
        yield "49个集聚区。 [1]"
        yield Answer("问题？", "成功创建49个集聚区。 [1]", [CITATION], False, "zh-Hans")

    answer = print_stream(events())
    assert answer.citations == [CITATION]
    assert capsys.readouterr().out == "49个集聚区。 [1]\n[1] 000_doc · 通报 · 2020-06-01\n\n"


def test_a_changed_answer_is_printed_again_after_checking(capsys):
    final = Answer(
        "问题？", "成功创建49个集聚区。 [1]", [CITATION], False, "zh-Hans", rewritten_question="问题？"
    )
    print_stream(iter(["成功创建49个集聚区。 [1] 另有900个。 [1]", final]))
    out = capsys.readouterr().out
    assert "\n\n核对引用后的答案：成功创建49个集聚区。 [1]\n" in out
    assert "(answered as: 问题？)" in out and out.rstrip().endswith("2020-06-01")
