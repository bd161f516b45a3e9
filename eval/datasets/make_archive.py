"""Write the policy-archive fixture corpus (``eval/datasets/archive/``) that ``archive.jsonl``
asks about: a scanned notice (page images, no text layer: read by OCR) with a sidecar giving its
type and region, a Word file and a printed PDF each holding a table of tasks, and a plan with the
newer plan that repeals it (``tests/policy_pair.py``).

The files are committed (about 200 KB), so every run reads the same bytes; this script is how they
were made, reusing the test fixtures (``tests/scans.py`` renders the scan with Noto Sans CJK,
``tests/pdfs.py`` prints the PDF with headless Chromium)::

    .venv/bin/python eval/datasets/make_archive.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = Path(__file__).resolve().parent / "archive"

SCANNED_NOTICE = """成都市人民政府办公厅关于加快发展夜间经济的通知

成办发〔2022〕8号

各区（市）县人民政府，市政府各部门：

为促进消费升级，现就加快发展夜间经济通知如下。

一、到2025年，全市打造夜间经济示范街区20个。

二、夜间经济示范街区由市商务局牵头认定，每年评估一次。

成都市人民政府办公厅

2022年4月8日
"""
SCAN_SIDECAR = 'doc_type = "通知"\nregion = "成都市"\n'

DOCX_PARAGRAPHS = ("四川省服务业发展重点任务分工方案", "为推动服务业高质量发展，现将重点任务分工如下。")
DOCX_TABLE = [
    ["任务", "牵头单位", "目标值"],
    ["建设现代服务业集聚区", "省发展改革委", "49个"],
    ["培育服务业龙头企业", "省商务厅", "100家"],
    ["建设物流枢纽", "省交通运输厅", "12个"],
]

PDF_BEFORE = (
    "四川省人民政府办公厅关于印发四川省现代物流发展重点任务的通知",
    "川办发〔2022〕20号",
    "各市(州)人民政府，省政府各部门：现将现代物流发展重点任务及责任分工印发给你们，请认真贯彻执行。",
)
PDF_TABLE = [
    ["任务", "责任单位", "完成时限"],
    ["建设国家物流枢纽", "省发展改革委", "2025年底"],
    ["培育冷链物流龙头企业", "省商务厅", "2024年底"],
    ["建设农村物流服务站点", "省交通运输厅", "2023年底"],
]
PDF_AFTER = ("四川省人民政府办公厅", "2022年9月1日")


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    import docx
    import pdfs
    import scans
    from policy_pair import NEW, OLD

    ARCHIVE.mkdir(exist_ok=True)
    (ARCHIVE / "plan_2018.txt").write_text(OLD, encoding="utf-8")
    (ARCHIVE / "plan_2021.txt").write_text(NEW, encoding="utf-8")
    scans.scanned_pdf(SCANNED_NOTICE, ARCHIVE / "night_economy_scan.pdf")
    (ARCHIVE / "night_economy_scan.meta.toml").write_text(SCAN_SIDECAR, encoding="utf-8")

    document = docx.Document()
    for text in DOCX_PARAGRAPHS:
        document.add_paragraph(text)
    table = document.add_table(rows=len(DOCX_TABLE), cols=len(DOCX_TABLE[0]))
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    fixed = dt.datetime(2022, 6, 1, tzinfo=dt.UTC)  # the same bytes on every run (but zip times)
    document.core_properties.created = document.core_properties.modified = fixed
    document.save(ARCHIVE / "service_tasks.docx")

    body = pdfs.paragraphs_html(*PDF_BEFORE) + pdfs.table_html(PDF_TABLE) + pdfs.paragraphs_html(*PDF_AFTER)
    pdfs.printed_pdf(body, ARCHIVE / "logistics_tasks.pdf")
    for path in sorted(ARCHIVE.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
