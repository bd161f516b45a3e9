"""Rendering helpers: footnote links, highlighted spans, escaping, sources per turn."""

from __future__ import annotations

import re

from rag.types import Answer, Citation, Passage
from ui import render

PASSAGE_TEXT = "成功创建49个省级现代服务业集聚区。为充分发挥先进典型的示范带动作用。"


def passage(chunk_id="000_a:c1", doc_id="000_a", text=PASSAGE_TEXT, **extra) -> Passage:
    fields = {"title": "四川省通报", "date": "2020-06-01", "doc_number": "川办函〔2020〕31号"} | extra
    return Passage(chunk_id=chunk_id, doc_id=doc_id, text=text, start=0, end=len(text), **fields)


def citation(n: int, p: Passage, start: int, end: int) -> Citation:
    return Citation(
        n=n,
        chunk_id=p.chunk_id,
        doc_id=p.doc_id,
        title=p.title,
        date=p.date,
        section=p.section,
        passage=p.text,
        span_start=start,
        span_end=end,
        doc_start=start,
        doc_end=end,
    )


def answer(text: str, citations: list[Citation], passages: list[Passage], **extra) -> Answer:
    return Answer(
        question=extra.pop("question", "四川省已建成多少个省级现代服务业集聚区？"),
        text=text,
        citations=citations,
        abstained=extra.pop("abstained", False),
        language=extra.pop("language", "zh-Hans"),
        passages=passages,
        **extra,
    )


def test_markers_become_footnote_links_to_their_turn():
    p = passage()
    html = render.render_answer(answer("成功创建49个。 [1]", [citation(1, p, 0, 17)], [p]), 3)
    assert '<a class="cite" href="#cite-3-1" data-turn="3" data-n="1"><sup>[1]</sup></a>' in html
    assert '<ol class="footnotes">' in html and "四川省通报" in html


def test_a_marker_without_citation_stays_plain_text():
    p = passage()
    html = render.render_answer(answer("见 [1] 和 [7]", [citation(1, p, 0, 5)], [p]), 1)
    assert "#cite-1-1" in html and "#cite-1-7" not in html and "[7]" in html


def test_cited_span_is_highlighted_inside_its_passage():
    p = passage()
    end = PASSAGE_TEXT.index("。") + 1
    html = render.passage_card(p, spans=[(0, end, 1)])
    marked = re.search(r'<mark class="cited-span" data-n="1">(.*?)</mark>', html)
    assert marked and marked.group(1) == PASSAGE_TEXT[:end]
    assert html.count("<mark") == 1
    assert 'data-doc-id="000_a"' in html and "川办函〔2020〕31号" in html and "2020-06-01" in html


def test_overlapping_spans_share_a_mark_with_both_numbers():
    html = render.highlight("abcdefgh", [(0, 4, 1), (2, 6, 2)])
    assert html == (
        '<mark class="cited-span" data-n="1">ab</mark><mark class="cited-span" data-n="1 2">cd</mark>'
        '<mark class="cited-span" data-n="2">ef</mark>gh'
    )


def test_out_of_range_spans_are_clamped_or_dropped():
    assert render.highlight("abc", [(-5, 2, 1), (9, 12, 2), (2, 2, 3)]) == (
        '<mark class="cited-span" data-n="1">ab</mark>c'
    )


def test_document_text_is_escaped_everywhere():
    nasty = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    p = passage(text=f"开头{nasty}结尾", title=f"标题{nasty}", section=nasty, doc_number=nasty)
    a = answer(f"{nasty} [1]", [citation(1, p, 0, 10)], [p], question=nasty)
    pieces = [
        render.render_answer(a, 1),
        render.render_sources(a, 1),
        render.render_question(nasty),
        render.render_partial(nasty, 1),
        render.render_error(nasty),
    ]
    for html in pieces:
        assert (
            "<script" not in html
            and "<img" not in html
            and "onerror=" not in html.replace("onerror=&quot;", "")
        )
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_rendered_html_has_no_newlines_so_markdown_leaves_it_alone():
    p = passage(text="第一段\n\n第二段 *not emphasis*\n- not a list")
    a = answer("第一行\n第二行 [1]", [citation(1, p, 0, 3)], [p], rewritten_question="改写\n问题")
    assert "\n" not in render.render_answer(a, 1) + render.render_sources(a, 1)
    assert "第一行<br>第二行" in render.render_answer(a, 1)


def test_sources_list_cited_passages_then_the_others_folded():
    cited, other = passage(), passage(chunk_id="003_b:c2", doc_id="003_b", text="另一段。", title="其他")
    html = render.render_sources(answer("x [1]", [citation(1, cited, 0, 4)], [cited, other]), 2)
    before_details, _, folded = html.partition('<details class="other-sources">')
    assert 'data-doc-id="000_a"' in before_details and 'data-doc-id="003_b"' not in before_details
    assert 'data-doc-id="003_b"' in folded and "(1)" in folded
    assert 'id="sources-2"' in html


def test_two_citations_of_one_passage_make_one_card_with_both_spans():
    p = passage()
    a = answer("a [1] b [2]", [citation(1, p, 0, 4), citation(2, p, 10, 14)], [p])
    html = render.render_sources(a, 1)
    assert html.count('<article class="source-card cited"') == 1
    assert 'data-n="1 2"' in html and html.count("<mark") == 2


def test_abstention_is_labelled_and_shows_the_closest_passages_open():
    ps = [passage(chunk_id=f"00{i}_x:c", doc_id=f"00{i}_x", text=f"段落{i}") for i in range(5)]
    a = answer("文档中没有回答这个问题。", [], ps, abstained=True)
    assert "未找到答案" in render.render_answer(a, 1)
    html = render.render_sources(a, 1)
    opened, _, folded = html.partition("<details")
    assert "最接近的段落" in opened and opened.count("<article") == render.CLOSEST_SHOWN
    assert folded.count("<article") == 5 - render.CLOSEST_SHOWN


def test_english_answers_get_english_labels():
    a = answer("The documents do not say.", [], [passage()], abstained=True, language="en")
    assert "Not found in the documents" in render.render_answer(a, 1)
    assert "closest passages" in render.render_sources(a, 1)


def test_details_show_rewritten_question_support_and_notes():
    p = passage()
    a = answer(
        "x [1]",
        [citation(1, p, 0, 4)],
        [p],
        rewritten_question="四川省有多少集聚区？",
        support=0.75,
        verification_notes=["dropped marker [9]: out of range"],
        timings={"retrieve": 0.01, "generate": 0.02, "total": 0.03},
    )
    html = render.render_answer(a, 1, settings_line="hybrid · top-5 · extractive")
    assert '<details class="answer-details" open>' in html
    for expected in (
        "四川省有多少集聚区？",
        "75%",
        "dropped marker [9]: out of range",
        "hybrid · top-5",
        "30 ms",
    ):
        assert expected in html


def test_no_details_block_when_there_is_nothing_to_say():
    p = passage()
    assert "answer-details" not in render.render_answer(answer("x [1]", [citation(1, p, 0, 1)], [p]), 1)


def test_sources_panel_marks_only_the_latest_turn_active():
    sections = [render.render_sources(answer(f"q{i}", [], [passage()]), i) for i in (1, 2, 3)]
    html = render.render_sources_panel(sections, placeholder="empty")
    assert re.findall(r'class="turn-sources active" id="sources-(\d)"', html) == ["3"]
    assert html.count('class="turn-sources"') == 2
    assert "empty" in render.render_sources_panel([], placeholder="empty")


def test_panel_for_thirty_turns_grows_linearly():
    p = passage()
    one = render.render_sources(answer("x [1]", [citation(1, p, 0, 4)], [p]), 1)
    sections = [render.render_sources(answer("x [1]", [citation(1, p, 0, 4)], [p]), i) for i in range(1, 31)]
    panel = render.render_sources_panel(sections, placeholder="")
    assert len(panel) < 30 * (len(one) + 20)
