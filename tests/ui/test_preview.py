"""The document preview: the cleaned text (exactly what citations index into), chunk starts, the
section outline, the cited span marked; pieced together from chunks when the file changed."""

from __future__ import annotations

import re

import pytest

from ui import preview


@pytest.fixture
def kb(corpus_pool):
    return corpus_pool.get(corpus_pool.default_collection).kb


def first_doc(kb):
    return next(d for d in kb.documents() if d.doc_id.startswith("000_"))


def test_the_preview_is_the_cleaned_text_that_citations_point_into(kb):
    doc = first_doc(kb)
    view = preview.load_view(kb, doc.doc_id)
    assert view.exact and view.title == doc.title and view.date == "2020-06-01"
    stored = kb.store.get([c.chunk_id for c in kb.registry()[doc.doc_id] if not c.chunk_id.endswith("#en")])
    for chunk in stored:
        start, end = chunk.metadata["start"], chunk.metadata["end"]
        assert view.text[start:end] == chunk.text
    assert [c.start for c in view.chunks] == sorted(c.start for c in view.chunks)
    assert len(view.chunks) == doc.chunks


def test_the_rendered_preview_marks_the_span_and_labels_chunks_and_sections(kb):
    view = preview.load_view(kb, first_doc(kb).doc_id)
    start = view.text.index("49个")
    html = preview.render_preview(view, start=start, end=start + 3, request=7)
    assert '<mark class="cited-span is-target preview-target">49个</mark>' in html
    assert html.count('class="chunk-start"') == len(view.chunks) and 'data-request="7"' in html
    outline = re.findall(r'class="outline-link" href="#doc-chunk-(\d+)"', html)
    assert len(outline) == len(view.outline()) and "\n" not in html
    assert "preview-notice" not in html


def test_a_changed_file_is_shown_from_its_indexed_chunks(kb):
    doc = first_doc(kb)
    before = preview.load_view(kb, doc.doc_id)
    with open(doc.source_path, "a", encoding="utf-8") as f:
        f.write("\n新加的一段。\n")
    view = preview.load_view(kb, doc.doc_id)
    assert not view.exact and "新加的一段" not in view.text
    for c in view.chunks:
        assert view.text[c.start : c.end] == before.text[c.start : c.end]
    assert "preview-notice" in preview.render_preview(view)


def test_an_unknown_document_is_a_message_in_both_languages(kb):
    with pytest.raises(ValueError, match="知识库中没有文档 999_x。 No document 999_x"):
        preview.load_view(kb, "999_x")


def test_document_text_is_escaped(make_pool, tmp_path):
    pool = make_pool()
    hostile = tmp_path / "999_xss.txt"
    hostile.write_text(
        "标题<script>alert(1)</script>\n\n正文<img src=x onerror=alert(2)>。\n", encoding="utf-8"
    )
    kb = pool.get(pool.default_collection).kb
    kb.ingest([hostile])
    html = preview.render_preview(preview.load_view(kb, "999_xss"), start=0, end=2)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_a_document_of_a_series_shows_its_timeline(make_kb, tmp_path):
    from policy_pair import NEW, OLD

    (tmp_path / "plan_2018.txt").write_text(OLD, encoding="utf-8")
    (tmp_path / "plan_2021.txt").write_text(NEW, encoding="utf-8")
    (tmp_path / "other.txt").write_text("成都市绿道总长度达到5000公里。", encoding="utf-8")
    kb = make_kb()
    kb.ingest([tmp_path])
    view = preview.load_view(kb, "plan_2018")
    assert [(d, date, newer) for d, _, date, newer in view.series] == [
        ("plan_2018", "2018-03-01", "plan_2021"),
        ("plan_2021", "2021-06-15", ""),
    ]
    html = preview.render_preview(view)
    assert "文件沿革 Document series" in html and 'aria-current="true"' in html
    assert html.count("已废止 superseded") == 1 and "现行 in force" in html
    assert preview.load_view(kb, "other").series == () and "preview-series" not in preview.render_preview(
        preview.load_view(kb, "other")
    )
