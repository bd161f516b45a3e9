"""Rendering: footnote links, stages, the queue, highlighted spans (and the answer's own words inside
them), escaping, one answer's sources, refusals listing "title › section" once each."""

from __future__ import annotations

import re

from rag.types import Answer, Citation, Passage
from ui import render, sources

PASSAGE_TEXT = "成功创建49个省级现代服务业集聚区。为充分发挥先进典型的示范带动作用。"


def passage(chunk_id="000_a:c1", doc_id="000_a", text=PASSAGE_TEXT, **extra) -> Passage:
    fields = {"title": "四川省通报", "date": "2020-06-01", "doc_number": "川办函〔2020〕31号"} | extra
    return Passage(chunk_id=chunk_id, doc_id=doc_id, text=text, start=0, end=len(text), **fields)


def citation(n: int, p: Passage, start: int, end: int, **extra) -> Citation:
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
        doc_start=p.start + start,
        doc_end=p.start + end,
        **extra,
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
    assert '<ol class="footnotes">' in html and "四川省通报" in html and 'class="copy-answer"' in html


def test_a_marker_without_citation_stays_plain_text():
    p = passage()
    html = render.render_answer(answer("见 [1] 和 [7]", [citation(1, p, 0, 5)], [p]), 1)
    assert "#cite-1-1" in html and "#cite-1-7" not in html and "[7]" in html


def test_grouped_and_full_width_markers_link_each_number_and_a_year_stays_text():
    p = passage()
    known = [citation(1, p, 0, 5), citation(2, p, 5, 9)]
    html = render.render_answer(answer("川办函 [2020] 31号 [1, 2]；另见［2］和 [7, 8]。", known, [p]), 4)
    body = html.split('<div class="answer-text">', 1)[1].split("</div>", 1)[0]
    assert body.count('href="#cite-4-1"') == 1 and body.count('href="#cite-4-2"') == 2
    assert "[2020]" in html and "[7, 8]" in html and "#cite-4-7" not in html
    mixed = render.linkify_markers("见 [1-3]", 2, known={1, 3})
    assert "#cite-2-1" in mixed and "#cite-2-3" in mixed and "#cite-2-2" not in mixed and "[2]" in mixed


def test_the_stage_indicator_marks_done_current_and_coming_stages():
    html = render.render_stages("answering")
    states = re.findall(r'class="stage (\w+)" data-stage="(\w+)"', html)
    assert states == [("done", "retrieving"), ("now", "answering"), ("todo", "verifying")]
    assert "正在组织回答" in html and "Writing the answer" in html
    assert [
        s for s, _ in re.findall(r'class="stage (\w+)" data-stage="(\w+)"', render.render_stages(None))
    ] == ["todo"] * 3


def test_the_exchange_in_progress_shows_its_stage_text_and_queue():
    html = render.render_live(
        4, "问题？", stage="retrieving", text="部分 [1]", queued=["第二个", "<b>第三</b>"]
    )
    assert 'data-stage="retrieving"' in html and 'class="cursor"' in html and "部分 [1]" in html
    assert "a class" not in html  # markers are linked once the answer is checked
    assert "排队中 Queued (2)" in html and "&lt;b&gt;第三&lt;/b&gt;" in html
    assert "正在停止" in render.render_live(4, "q", stage="answering", text="", stopping=True)


def test_a_revised_answer_says_so_and_a_stopped_one_is_labelled():
    p = passage()
    assert "核对引用后，回答已修改" in render.render_answer(
        answer("x [1]", [citation(1, p, 0, 4)], [p]), 1, revised=True
    )
    assert "revised-note" not in render.render_answer(answer("x [1]", [citation(1, p, 0, 4)], [p]), 1)
    assert "已停止 · Stopped" in render.render_stopped("写到一半", 2)


def test_cited_span_is_highlighted_inside_its_passage():
    p = passage()
    end = PASSAGE_TEXT.index("。") + 1
    html = sources.passage_card(p, spans=[(0, end, 1)])
    marked = re.search(r'<mark class="cited-span" data-n="1">(.*?)</mark>', html)
    assert marked and marked.group(1) == PASSAGE_TEXT[:end]
    assert html.count("<mark") == 1 and "000_a" not in re.sub(r'data-[a-z-]+="[^"]*"', "", html)
    assert "川办函〔2020〕31号" in html and "2020-06-01" in html
    assert f'class="read-doc" data-doc-id="000_a" data-start="0" data-end="{end}"' in html


def test_the_answers_own_words_are_marked_more_strongly_inside_the_sentence():
    p = passage()
    start = PASSAGE_TEXT.index("49个")
    c = citation(1, p, 0, PASSAGE_TEXT.index("。") + 1, highlights=((start, start + 3),))
    html = sources.render_sources(answer("成功创建49个。 [1]", [c], [p]), 1)
    assert '<mark class="cited-span" data-n="1">成功创建<strong class="answer-span">49个</strong>省级' in html


def test_overlapping_spans_share_a_mark_with_both_numbers():
    html = sources.highlight("abcdefgh", [(0, 4, 1), (2, 6, 2)])
    assert html == (
        '<mark class="cited-span" data-n="1">ab</mark><mark class="cited-span" data-n="1 2">cd</mark>'
        '<mark class="cited-span" data-n="2">ef</mark>gh'
    )


def test_out_of_range_spans_are_clamped_or_dropped():
    assert sources.highlight("abc", [(-5, 2, 1), (9, 12, 2), (2, 2, 3)]) == (
        '<mark class="cited-span" data-n="1">ab</mark>c'
    )
    assert sources.highlight("abc", [], [(0, 2)]) == "abc"  # a strong span outside any mark is not shown


def test_document_text_is_escaped_everywhere():
    nasty = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    p = passage(text=f"开头{nasty}结尾", title=f"标题{nasty}", section=nasty, doc_number=nasty)
    a = answer(f"{nasty} [1]", [citation(1, p, 0, 10, highlights=((2, 9),))], [p], question=nasty)
    refusal = answer(nasty, [], [p], abstained=True, question=nasty)
    pieces = [
        render.render_answer(a, 1),
        sources.render_sources(a, 1),
        sources.render_sources(refusal, 2),
        render.render_question(nasty),
        render.render_live(1, nasty, stage="answering", text=nasty, queued=[nasty]),
        render.render_error(nasty),
        render.render_stopped(nasty, 1),
        render.render_welcome([(nasty, nasty)]),
    ]
    for html in pieces:
        assert (
            "<script" not in html
            and "<img" not in html
            and "onerror=" not in html.replace("onerror=&quot;", "")
        )
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_rendered_html_has_no_newlines():
    p = passage(text="第一段\n\n第二段 *not emphasis*\n- not a list")
    a = answer("第一行\n第二行 [1]", [citation(1, p, 0, 3)], [p], rewritten_question="改写\n问题")
    assert "\n" not in render.render_answer(a, 1) + sources.render_sources(a, 1)
    assert "第一行<br>第二行" in render.render_answer(a, 1)


def test_sources_list_cited_passages_then_the_others_folded():
    cited, other = passage(), passage(chunk_id="003_b:c2", doc_id="003_b", text="另一段。", title="其他")
    html = sources.render_sources(answer("x [1]", [citation(1, cited, 0, 4)], [cited, other]), 2, focus=1)
    before_details, _, folded = html.partition('<details class="other-sources">')
    assert 'data-doc-id="000_a"' in before_details and 'data-doc-id="003_b"' not in before_details
    assert 'data-doc-id="003_b"' in folded and "(1)" in folded
    assert 'id="sources-2"' in html and 'data-focus="1"' in html


def test_two_citations_of_one_passage_make_one_card_with_both_spans():
    p = passage()
    a = answer("a [1] b [2]", [citation(1, p, 0, 4), citation(2, p, 10, 14)], [p])
    html = sources.render_sources(a, 1)
    assert html.count('<article class="source-card cited"') == 1
    assert 'data-n="1 2"' in html and html.count("<mark") == 2


def test_a_refusal_lists_title_and_section_once_each_without_ids():
    section = "二、主要目标 > (三)建设目标"
    ps = [
        passage(
            "004_8ac6a6207ac107a0:c1", "004_8ac6a6207ac107a0", "甲。", title="成都:意见", section=section
        ),
        passage(
            "004_8ac6a6207ac107a0:c2", "004_8ac6a6207ac107a0", "乙。", title="成都:意见", section=section
        ),
        passage("002_b:c1", "002_b", "丙。", title="武侯区大会", section=""),
        passage("000_a:c1", "000_a", "丁。", title="四川省通报", section="一、总体要求"),
        passage("000_a:c2", "000_a", "戊。", title="四川省通报", section="二、任务"),
    ]
    html = sources.render_sources(answer("文档中没有回答这个问题。", [], ps, abstained=True), 1)
    listed = re.findall(r'<li data-chunk-id="[^"]*">(.*?)</li>', html)
    assert listed == ["成都:意见 › 二、主要目标 › (三)建设目标", "武侯区大会", "四川省通报 › 一、总体要求"]
    opened, _, folded = html.partition("<details")
    assert opened.count("<article") == sources.CLOSEST_SHOWN and "最接近的段落" in opened
    assert folded.count("<article") == 2  # the second chunk of the same section, and the fourth place
    visible = re.sub(r'data-[a-z-]+="[^"]*"', "", html)
    assert "8ac6a6207ac107a0" not in visible


def test_english_answers_get_english_labels():
    a = answer("The documents do not say.", [], [passage()], abstained=True, language="en")
    assert "Not found in the documents" in render.render_answer(a, 1)
    html = sources.render_sources(a, 1)
    assert "closest passages" in html and "Read document" in html


def test_details_show_rewritten_question_support_answerability_and_notes():
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
    object.__setattr__(a, "answerability", 0.82)  # the field the answer-quality work adds
    html = render.render_answer(a, 1, settings_line="hybrid · top-5 · extractive")
    assert '<details class="answer-details" open>' in html and 'data-total-ms="30.0"' in html
    for expected in (
        "四川省有多少集聚区？",
        "75%",
        "82%",
        "可回答的把握",
        "dropped marker [9]",
        "hybrid · top-5",
        "30 ms",
    ):
        assert expected in html


def test_no_details_block_when_there_is_nothing_to_say():
    p = passage()
    assert "answer-details" not in render.render_answer(answer("x [1]", [citation(1, p, 0, 1)], [p]), 1)


def test_where_joins_title_and_section_path():
    assert sources.where("标题", "一、总体 > (二)目标") == "标题 › 一、总体 › (二)目标"
    assert sources.where(None, "", "000_a") == "000_a"


def test_the_answers_lead_is_bold_and_document_text_stays_escaped():
    answer = Answer("q", "**49个** — 「成功创建<b>49</b>个。」 [1] *不是* **", [], False, "zh-Hans")
    html = render.render_answer(answer, 1)
    assert "<strong>49个</strong> — 「成功创建&lt;b&gt;49&lt;/b&gt;个。」" in html
    assert "*不是* **" in html  # a lone pair of asterisks is left as it is
    assert "<strong>42个</strong>" in render.render_partial("**42个** — 「…」")
    assert "**4" in render.render_partial("**4")  # not closed yet: as written
