"""Tables kept as tables: one line a row with its header, rows never split across chunks, drawn
as a table in the passage view, and a question about a row cites that row."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunk import Chunker
from rag.clean import clean_text
from rag.load import load_document
from rag.tables import Cell, is_row, parse_row, row_line, table_lines
from rag.types import Document
from ui.sources import passage_html

HEADER = ["任务", "牵头单位", "目标值"]
ROWS = [
    ["建设现代服务业集聚区", "省发展改革委", "49个"],
    ["培育服务业龙头企业", "省商务厅", "100家"],
    ["建设物流枢纽", "省交通运输厅", "12个"],
]


def test_a_row_repeats_its_header_and_reads_back_cell_by_cell():
    line = row_line(HEADER, ROWS[0])
    assert line == "任务：建设现代服务业集聚区 | 牵头单位：省发展改革委 | 目标值：49个"
    cells = parse_row(line)
    assert [c.key for c in cells] == HEADER
    assert [line[c.start : c.end] for c in cells] == ROWS[0]


def test_merged_cells_are_written_once_and_empty_cells_left_out():
    assert row_line(["甲", "甲", "乙"], ["合并", "合并", ""]) == "甲：合并"
    assert table_lines([["只有一行", "没有表头"]]) == ["只有一行 | 没有表头"]
    assert table_lines([[" ", ""], HEADER, ROWS[1]]) == [row_line(HEADER, ROWS[1])]


def test_a_pipe_inside_a_cell_cannot_break_the_row():
    line = row_line(["项目"], ["A | B"])
    assert line == "项目：A ｜ B" and not is_row(line)
    assert not is_row("普通句子，没有竖线。") and parse_row("普通句子。") is None


def test_docx_and_html_tables_become_row_lines(tmp_path: Path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("重点任务分工如下。")
    table = document.add_table(rows=len(ROWS) + 1, cols=3)
    for row, values in zip(table.rows, [HEADER, *ROWS], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(tmp_path / "tasks.docx")
    lines = load_document(tmp_path / "tasks.docx").text.split("\n\n")
    assert lines == ["重点任务分工如下。", *(row_line(HEADER, r) for r in ROWS)]

    head = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in ROWS)
    html = f"<html><body><p>重点任务分工如下。</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    (tmp_path / "tasks.html").write_text(html, encoding="utf-8")
    assert load_document(tmp_path / "tasks.html").text.split("\n\n") == lines


def test_rows_are_never_split_across_chunks_and_each_carries_its_header():
    rows = [row_line(HEADER, [f"第{i}项任务内容较长需要说明", f"单位{i}", f"{i}个"]) for i in range(30)]
    text = "重点任务分工如下。\n\n" + "\n\n".join(rows)
    chunks = Chunker(size=60, overlap=1)(Document("d", "d.docx", "h", text))
    assert len(chunks) > 5
    for chunk in chunks:
        for line in chunk.text.split("\n\n"):
            assert line in rows or not is_row(line)
            assert not is_row(line) or line.startswith("任务：")
    assert all(any(row in c.text for c in chunks) for row in rows)


def test_the_passage_view_draws_rows_as_a_table_with_the_cited_cell_marked():
    text = "重点任务分工如下。\n\n" + "\n\n".join(row_line(HEADER, r) for r in ROWS)
    at = text.index("省商务厅")
    html = passage_html(text, [(at, at + 4, 1)])
    assert html.startswith("重点任务分工如下。<table")
    assert html.count("<th>") == 3 and html.count("<tr>") == 1 + len(ROWS)
    assert '<td><mark class="cited-span" data-n="1">省商务厅</mark></td>' in html


def test_a_question_about_a_row_cites_that_row(tmp_path, make_kb, hash_embedder, lexical_evidence):
    docx = pytest.importorskip("docx")
    from rag.pipeline import Assistant

    document = docx.Document()
    document.add_paragraph("四川省服务业发展重点任务分工方案")
    document.add_paragraph("为推动服务业高质量发展，现将重点任务分工如下。")
    table = document.add_table(rows=len(ROWS) + 1, cols=3)
    for row, values in zip(table.rows, [HEADER, *ROWS], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(tmp_path / "tasks.docx")
    kb = make_kb()
    assert kb.ingest([tmp_path / "tasks.docx"]).added == ["tasks"]
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    for question, row in (("培育服务业龙头企业的牵头单位是谁？", 1), ("建设物流枢纽的目标值是多少？", 2)):
        answer = assistant.ask(question)
        assert answer.citations, question
        assert answer.citations[0].span.strip() == row_line(HEADER, ROWS[row])


def test_cell_offsets_point_into_the_line():
    line = "甲：1 | 乙：2"
    assert parse_row(line) == [Cell("甲", 2, 3), Cell("乙", 8, 9)]


# --- PDF tables (rag.pdf): printed by Chromium (tests/pdfs.py) -----------------------------------


def test_pdf_tables_become_row_lines_among_the_page_lines(tmp_path: Path):
    import pdfs

    pytest.importorskip("pdfplumber")
    body = pdfs.paragraphs_html("重点任务分工如下。") + pdfs.table_html([HEADER, *ROWS])
    body += pdfs.paragraphs_html("各地要抓好落实。")
    lines = clean_text(load_document(pdfs.printed_pdf(body, tmp_path / "tasks.pdf")).text).split("\n\n")
    assert lines == ["重点任务分工如下。", *(row_line(HEADER, r) for r in ROWS), "各地要抓好落实。"]


def test_a_pdf_table_continued_on_the_next_page_keeps_its_header(tmp_path: Path):
    import pdfs

    pytest.importorskip("pdfplumber")
    body = pdfs.paragraphs_html("重点任务分工如下。") + pdfs.table_html([HEADER, *ROWS], break_after=1)
    document = load_document(pdfs.printed_pdf(body, tmp_path / "tasks.pdf"))
    assert document.text.count("\n\n") == 1  # two pages
    assert clean_text(document.text).split("\n\n")[1:] == [row_line(HEADER, r) for r in ROWS]


def test_a_pdf_without_ruled_tables_keeps_its_running_text(tmp_path: Path):
    import pdfs

    from rag.pdf import page_texts

    text = "四川省服务业发展规划\n到2025年，全省建成省级现代服务业集聚区60个。"
    path = pdfs.printed_pdf(pdfs.paragraphs_html(*text.split("\n")), tmp_path / "plan.pdf")
    assert page_texts(path.read_bytes()) == [text]


def test_kangxi_radicals_of_a_font_map_are_folded():
    from rag.pdf import fold_radicals

    assert fold_radicals("⽬标值，⻰头企业，全角，！") == "目标值，龙头企业，全角，！"


def test_a_question_about_a_pdf_table_row_cites_that_row(tmp_path, make_kb, hash_embedder, lexical_evidence):
    import pdfs

    pytest.importorskip("pdfplumber")
    from rag.pipeline import Assistant

    body = pdfs.paragraphs_html(
        "四川省服务业发展重点任务分工方案", "为推动服务业高质量发展，现将重点任务分工如下。"
    )
    pdfs.printed_pdf(body + pdfs.table_html([HEADER, *ROWS]), tmp_path / "tasks.pdf")
    kb = make_kb()
    assert kb.ingest([tmp_path / "tasks.pdf"]).added == ["tasks"]
    assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
    for question, row in (("培育服务业龙头企业的牵头单位是谁？", 1), ("建设物流枢纽的目标值是多少？", 2)):
        answer = assistant.ask(question)
        assert answer.citations, question
        assert answer.citations[0].span.strip() == row_line(HEADER, ROWS[row])
