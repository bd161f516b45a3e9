"""Loading files into Documents: encoding detection, HTML/Markdown/PDF/DOCX extraction, failures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.encoding import decode_text
from rag.errors import LoadError
from rag.load import SUPPORTED_EXTENSIONS, LoadFailure, load_document, load_documents

SIMPLIFIED = (
    "四川省人民政府办公厅关于表扬现代服务业集聚区先进单位的通报\n"
    "川办函〔2020〕31号\n\n"
    "近年来，各地各部门坚持以新时代中国特色社会主义思想为指导，积极创新服务业发展路径。\n"
)
TRADITIONAL = (
    "武侯區產業園區高質量發展大會召開\n"
    "2024年11月16日 來源:中新網四川\n\n"
    "會議強調，要在立園滿園上加力加勁，努力把產業園區建設成為高質量發展的主陣地主引擎。\n"
)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- plain text and encodings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (SIMPLIFIED, "utf-8"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED, "gb18030"),
        (SIMPLIFIED, "utf-16"),
        (TRADITIONAL, "utf-8"),
        (TRADITIONAL, "utf-8-sig"),
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "gb18030"),
        (TRADITIONAL, "utf-16"),
    ],
)
def test_text_in_any_encoding_loads_to_the_same_text(tmp_path: Path, text: str, encoding: str) -> None:
    path = _write(tmp_path / "policy.txt", text.encode(encoding))
    document = load_document(path)
    assert document.text == text
    assert "\ufeff" not in document.text


def test_big5_is_not_mistaken_for_gb18030(tmp_path: Path) -> None:
    raw = TRADITIONAL.encode("big5")
    raw.decode("gb18030")  # the bytes are valid GB18030 too: detection must not stop there
    document = load_document(_write(tmp_path / "trad.txt", raw))
    assert document.text.startswith("武侯區產業園區")
    assert document.meta.language == "zh-Hant"
    assert document.meta.title == "武侯區產業園區高質量發展大會召開"


@pytest.mark.parametrize(("word", "encoding"), [("国发", "gb18030"), ("通知", "gb18030"), ("台灣", "big5")])
def test_short_cjk_runs_decode_correctly(word: str, encoding: str) -> None:
    assert decode_text(word.encode(encoding)) == word


def test_document_fields_and_newline_normalisation(tmp_path: Path) -> None:
    raw = SIMPLIFIED.replace("\n", "\r\n").encode("gb18030")
    path = _write(tmp_path / "notice-01.txt", raw)
    document = load_document(path)
    assert document.doc_id == "notice-01"
    assert document.source_path == str(path)
    assert document.sha256 == hashlib.sha256(raw).hexdigest()
    assert "\r" not in document.text
    assert document.text == SIMPLIFIED
    assert document.meta.doc_number == "川办函〔2020〕31号"
    assert document.meta.language == "zh-Hans"


def test_markdown_keeps_text_and_headings(tmp_path: Path) -> None:
    source = (
        "# 关于促进服务业发展的意见\n\n## 一、总体要求\n\n"
        "坚持**人民**为中心，见[附件](http://example.org/a.pdf)。\n"
    )
    document = load_document(_write(tmp_path / "opinion.md", source.encode()))
    paragraphs = document.text.split("\n\n")
    assert paragraphs == ["关于促进服务业发展的意见", "一、总体要求", "坚持人民为中心，见附件。"]
    assert document.meta.title == "关于促进服务业发展的意见"


# --- HTML ------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="gb2312"><title>关于促进服务业发展的意见_成都市人民政府</title>
<style>p { color: red }</style><script>var tracker = "脚本内容";</script></head>
<body>
<header><div class="logo">成都市人民政府网站</div></header>
<nav><a href="/">首页</a> &gt; <a href="/zc">政策文件</a></nav>
<div class="article">
  <h1>关于促进服务业发展的意见</h1>
  <p>发布时间：2021年3月5日　来源：成都市发展和改革委员会</p>
  <p>为加快发展现代服务业，
     现提出如下意见。</p>
  <ul><li>第一项措施</li><li>第二项措施</li></ul>
  <p>第一行<br>第二行</p>
  <table><tr><td>项目</td><td>金额</td></tr></table>
</div>
<footer>版权所有 联系我们</footer>
<script>track();</script>
</body></html>
"""


def test_html_extracts_readable_paragraphs_without_chrome(tmp_path: Path) -> None:
    document = load_document(_write(tmp_path / "page.html", HTML_PAGE.encode("gb18030")))
    paragraphs = document.text.split("\n\n")
    assert paragraphs[0] == "关于促进服务业发展的意见"
    assert "为加快发展现代服务业， 现提出如下意见。" in paragraphs
    assert "第一项措施" in paragraphs and "第二项措施" in paragraphs
    assert "第一行\n第二行" in paragraphs
    assert "项目 | 金额" in paragraphs  # a one-row table: no header to repeat
    for chrome in ("脚本内容", "track", "color", "首页", "政策文件", "版权所有", "成都市人民政府网站"):
        assert chrome not in document.text
    assert document.meta.title == "关于促进服务业发展的意见"
    assert document.meta.date == "2021-03-05"
    assert document.meta.source == "成都市发展和改革委员会"


def test_html_title_falls_back_to_title_tag_without_site_suffix(tmp_path: Path) -> None:
    page = (
        "<html><head><title>促进消费的若干措施 | 四川省人民政府</title></head>"
        "<body><p>正文内容在这里。</p></body></html>"
    )
    document = load_document(_write(tmp_path / "p.htm", page.encode("utf-8")))
    assert document.text == "正文内容在这里。"
    assert document.meta.title == "促进消费的若干措施"


def test_html_wrong_declared_charset_loses_to_the_plausible_one(tmp_path: Path) -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    page += "<body><p>关于促进服务业发展的意见</p></body></html>"
    document = load_document(_write(tmp_path / "p.html", page.encode("gb18030")))
    assert document.text == "关于促进服务业发展的意见"


def test_html_header_inside_article_is_content_not_chrome(tmp_path: Path) -> None:
    page = (
        "<body><header>网站导航栏</header><article><header><h1>通知标题文字</h1>"
        "<time>2022-09-01</time></header><p>正文。</p></article><footer>版权</footer></body>"
    )
    document = load_document(_write(tmp_path / "a.html", page.encode()))
    assert document.text == "通知标题文字\n\n2022-09-01\n\n正文。"
    assert document.meta.title == "通知标题文字"
    assert document.meta.date == "2022-09-01"


# --- DOCX and PDF ----------------------------------------------------------------------------


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_heading("关于开展服务业集聚区评选的通知", level=1)
    doc.add_paragraph("川办函〔2020〕31号")
    doc.add_paragraph("各市(州)人民政府：现将有关事项通知如下。")
    table = doc.add_table(rows=2, cols=2)
    for row, (name, value) in zip(table.rows, [("项目", "金额"), ("集聚区", "49个")], strict=True):
        row.cells[0].text, row.cells[1].text = name, value
    doc.add_paragraph("2020年6月1日")
    path = tmp_path / "notice.docx"
    doc.save(path)

    document = load_document(path)
    assert document.text.split("\n\n") == [
        "关于开展服务业集聚区评选的通知",
        "川办函〔2020〕31号",
        "各市(州)人民政府：现将有关事项通知如下。",
        "项目：集聚区 | 金额：49个",  # the header row repeated in each row
        "2020年6月1日",
    ]
    assert document.meta.title == "关于开展服务业集聚区评选的通知"
    assert document.meta.doc_number == "川办函〔2020〕31号"
    assert document.meta.date == "2020-06-01"


def test_pdf_pages_are_joined_by_blank_lines(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=12)
    for line in ("Opinions on the Service Industry", "Published 2021-03-05 by the Chengdu Government"):
        pdf.add_page()
        pdf.cell(text=line)
    path = tmp_path / "opinions.pdf"
    pdf.output(str(path))

    document = load_document(path)
    assert document.text.split("\n\n") == [
        "Opinions on the Service Industry",
        "Published 2021-03-05 by the Chengdu Government",
    ]
    assert document.meta.language == "en"
    assert document.meta.date == "2021-03-05"


# --- failures --------------------------------------------------------------------------------


def test_supported_extensions() -> None:
    text = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
    assert text | {".png", ".jpg", ".jpeg", ".tif", ".tiff"} == SUPPORTED_EXTENSIONS  # images: OCR


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("sheet.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
        ("README", b"hello", "unsupported file type '(no extension)'"),
        ("empty.txt", b"", "file is empty"),
        ("blank.md", b"  \n\r\n\t", "file is empty"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "cannot parse PDF"),
        ("broken.docx", b"not a zip archive", "cannot parse DOCX"),
        ("binary.txt", bytes(range(256)) * 8, "undecodable text"),
        ("chrome-only.html", b"<html><body><nav>menu</nav><script>x()</script></body></html>", "no text"),
    ],
)
def test_bad_files_raise_load_error_with_path_and_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = _write(tmp_path / name, data)
    with pytest.raises(LoadError) as caught:
        load_document(path)
    message = str(caught.value)
    assert str(path) in message and reason in message
    assert "\n" not in message


def test_missing_file_raises_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read file"):
        load_document(tmp_path / "absent.txt")


def test_load_documents_walks_directories_and_reports_bad_files(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    _write(root / "b_notice.txt", SIMPLIFIED.encode("gb18030"))
    _write(root / "sub" / "a_news.md", TRADITIONAL.encode("big5"))
    _write(root / "sub" / "c_broken.pdf", b"%PDF-1.4 truncated")
    _write(root / "notes.xyz", b"ignored: unsupported extension inside a directory")
    _write(root / ".hidden.txt", b"hidden file")
    _write(root / ".git" / "d_config.txt", b"hidden directory")
    extra = _write(tmp_path / "z_extra.txt", b"Extra English notes about the policy.")

    documents, failures = load_documents([root, extra])

    assert [d.doc_id for d in documents] == ["b_notice", "a_news", "z_extra"]
    assert documents[1].meta.language == "zh-Hant"
    assert len(failures) == 1
    assert isinstance(failures[0], LoadFailure)
    assert failures[0].path == str(root / "sub" / "c_broken.pdf")
    assert "cannot parse PDF" in failures[0].reason
    assert str(root) not in failures[0].reason  # the reason alone, the path is its own field


def test_load_documents_reports_explicit_unsupported_file_and_duplicate_ids(tmp_path: Path) -> None:
    first = _write(tmp_path / "a" / "policy.txt", SIMPLIFIED.encode())
    second = _write(tmp_path / "b" / "policy.md", SIMPLIFIED.encode())
    odd = _write(tmp_path / "data.csv", b"a,b\n1,2\n")

    documents, failures = load_documents([first, second, odd])

    assert [d.source_path for d in documents] == [str(first)]
    assert [f.path for f in failures] == [str(second), str(odd)]
    assert "duplicate doc_id 'policy'" in failures[0].reason
    assert "unsupported file type '.csv'" in failures[1].reason


# --- hostile input (issue 10) ----------------------------------------------------------------


def _docx_with_document_xml(path: Path, body_bytes: int) -> Path:
    """A real .docx whose word/document.xml is padded to ``body_bytes`` of paragraphs."""
    import io
    import zipfile

    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("四川省现代服务业发展。")
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename != "word/document.xml":
                target.writestr(entry, source.read(entry))
                continue
            head, tail = source.read(entry).split(b"<w:body>", 1)
            with target.open("word/document.xml", "w") as out:
                out.write(head + b"<w:body>")
                for _ in range(body_bytes // len(paragraph)):
                    out.write(paragraph)
                out.write(tail)
    return path


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(LoadError, match="not a regular file"):
        load_document(fifo)


def test_stray_nul_bytes_in_utf8_are_stripped_not_called_binary(tmp_path: Path) -> None:
    raw = SIMPLIFIED.encode("utf-8")
    raw = raw[:30] + b"\x00" + raw[30:60] + b"\x00\x00" + raw[60:]
    document = load_document(_write(tmp_path / "nul.txt", raw))
    assert document.text.strip() == SIMPLIFIED.strip() and "\x00" not in document.text


def test_utf16_without_bom_is_still_utf16_not_utf8_with_nuls() -> None:
    assert decode_text(SIMPLIFIED.encode("utf-16-le")) == SIMPLIFIED


def test_a_document_over_the_character_limit_is_refused(tmp_path: Path) -> None:
    from rag.load import LoadLimits

    path = _write(tmp_path / "long.txt", ("四川" * 600).encode())
    with pytest.raises(LoadError, match=r"document too long: 1,200 characters, the limit is 1,000"):
        load_document(path, limits=LoadLimits(max_chars=1000))
    big = _write(tmp_path / "big.txt", b"a" * 5000)
    with pytest.raises(LoadError, match="at least 1,250 characters"):
        load_document(big, limits=LoadLimits(max_chars=1000))  # refused from its size, unread


def test_a_docx_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    from rag.load import MB, LoadLimits

    bomb = _docx_with_document_xml(tmp_path / "bomb.docx", 2 * MB)
    assert bomb.stat().st_size < MB // 10
    with pytest.raises(LoadError, match=r"archive unpacks to \d MB, the limit is 1 MB \(max_archive_mb\)"):
        load_document(bomb, limits=LoadLimits(max_archive_bytes=MB))
    small = _docx_with_document_xml(tmp_path / "small.docx", 1000)
    assert "四川省现代服务业发展" in load_document(small, limits=LoadLimits(max_archive_bytes=MB)).text


def test_a_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    import zipfile

    from rag.load import LoadLimits

    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(30):
            archive.writestr(f"part{i}.xml", "<x/>")
    with pytest.raises(LoadError, match="archive has 30 entries, the limit is 10"):
        load_document(path, limits=LoadLimits(max_archive_entries=10))
