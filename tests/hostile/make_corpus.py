"""Write the hostile-input corpus: every kind of bad file a fair but hostile user tried (issue 10),
the ones that broke ingestion and the ones that already held up, each with what ingesting it
must give. ``python tests/hostile/make_corpus.py OUT`` writes it and prints the expectations.

``expected`` maps a path (relative to the corpus folder) to ``"ok"`` (indexed), ``"absent"``
(never looked at: hidden, unsupported) or a phrase the per-file error must contain.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from pathlib import Path

MB = 1024 * 1024
POLICY = "四川省人民政府办公厅关于推进现代服务业高质量发展的通知。各市州要加快建设服务业集聚区，到2025年建成60个省级集聚区。\n"
TRADITIONAL = (
    "武侯區產業園區高質量發展大會召開。會議強調，要在立園滿園上加力加勁，努力把產業園區建設成為主陣地。\n"
)
ENGLISH = (
    "Sichuan will build 60 provincial service industry clusters by 2025, the provincial government said."
)


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _pdf(text: str | None, *, password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if text is None:
        pdf.rect(20, 20, 100, 60, style="F")  # a "scan": a picture, no text layer
    else:
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, text)
    data = bytes(pdf.output())
    if password is None:
        return data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_bomb(path: Path, unpacked: int) -> None:
    """A real .docx whose document.xml unpacks to ``unpacked`` bytes (a few hundred KB packed)."""
    source = zipfile.ZipFile(io.BytesIO(_docx(["炸弹文件"])))
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 30_000
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for entry in source.infolist():
            if entry.filename != "word/document.xml":
                target.writestr(entry, source.read(entry))
                continue
            head, tail = source.read(entry).split(b"<w:body>", 1)
            with target.open("word/document.xml", "w") as out:
                out.write(head + b"<w:body>")
                for _ in range(unpacked // len(paragraph)):
                    out.write(paragraph)
                out.write(tail)


def make_corpus(root: Path, *, big: bool = True) -> dict[str, str]:
    """Write the corpus under ``root``; ``big`` adds the 20 MB line, the 6,000-chunk file and the
    200 MB docx bomb (seconds to write)."""
    expected: dict[str, str] = {}

    def add(name: str, data: bytes | str, outcome: str) -> None:
        _write(root / name, data)
        expected[name] = outcome

    # what held up before issue 10 (it must keep holding up)
    add("empty.txt", b"", "file is empty")
    add("blank.md", b"  \n\r\n\t", "file is empty")
    add("binary.txt", bytes(range(256)) * 64, "undecodable text")
    add("gbk.txt", POLICY.encode("gb18030"), "ok")
    add("big5.txt", TRADITIONAL.encode("big5"), "ok")
    add("utf16.txt", POLICY.encode("utf-16"), "ok")
    add("good.pdf", _pdf(ENGLISH), "ok")
    add("encrypted.pdf", _pdf(ENGLISH, password="secret"), "PDF is encrypted")
    add("malformed.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "cannot parse PDF")
    add("scanned.pdf", _pdf(None), "no text content (a scanned PDF without a text layer?)")
    add("good.docx", _docx([POLICY, TRADITIONAL]), "ok")
    add("corrupt.docx", b"PK\x03\x04" + os.urandom(2000), "cannot parse DOCX")
    add("nested.html", "<div>" * 10_000 + "深度嵌套的网页：成都市公园城市建设。" + "</div>" * 10_000, "ok")
    add(
        "script.html",
        "<html><head><script>alert('x')</script></head><body><p>熊猫基地门票55元。</p>"
        "<script>document.write('注入')</script></body></html>",
        "ok",
    )
    add("chrome-only.html", "<html><body><nav>菜单</nav><script>x()</script></body></html>", "no text")
    add("政策 文件 (1).txt", POLICY, "ok")
    add(".hidden.txt", POLICY, "absent")
    add("sheet.xlsx", b"PK\x03\x04", "absent")
    # what broke before issue 10
    add("nul.txt", POLICY.encode()[:30] + b"\x00" + POLICY.encode()[30:] + b"\x00", "ok")
    add("A/notice.txt", "成都市的通知：全市新建绿道500公里。", "ok")
    add("B/notice.txt", "绵阳市的通知：全市新建道路80公里。", "ok")
    with zipfile.ZipFile(root / "many-entries.docx", "w") as archive:
        for i in range(10_050):
            archive.writestr(f"x/{i}.xml", "")
    expected["many-entries.docx"] = "archive has 10,050 entries, the limit is 10,000"
    os.mkfifo(root / "fifo.txt")
    expected["fifo.txt"] = "not a regular file"
    if big:
        records = "\n\n".join(f"{i}.记录{i}\n\n第{i}号记录：服务业项目编号{i}。" for i in range(6000))
        add("records.txt", records, "ok")  # 6,000 chunks: more than Chroma's 5,461 per write
        with open(root / "long-line.txt", "w", encoding="utf-8") as handle:
            for _ in range(20 * MB // 30):
                handle.write("四川省推进服务业高质量发展，")  # 20 MB in one line, no full stop
        expected["long-line.txt"] = "document too long"
        _docx_bomb(root / "bomb.docx", 200 * MB)
        expected["bomb.docx"] = "archive unpacks to 200 MB, the limit is 50 MB"
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    json.dump(make_corpus(target), sys.stdout, ensure_ascii=False, indent=2)
    print()
