"""Metadata extraction on the real corpus and on the repair rules for broken dates and numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.load import load_document
from rag.metadata import document_language, extract_metadata, parse_doc_number, repair_date
from rag.types import DocumentMeta

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "sichuan"

EXPECTED = {
    "000_2d3ce4a55c8786ef.txt": DocumentMeta(
        title="四川省人民政府办公厅关于表扬四川省现代服务业集聚区创新发展先进单位的通报",
        date="2020-06-01",
        doc_number="川办函〔2020〕31号",
        source="四川省人民政府办公厅",
        language="zh-Hans+en",
        issuer="四川省人民政府办公厅",
        doc_type="通报",
        region="四川省",
    ),
    "001_d78cfde9ab7cdbce.txt": DocumentMeta(
        title="商务厅传达学习习近平总书记来川视察重要指示精神 加快构筑向西开放战略高地和参与国际竞争新基地",
        date="2023-08-01",
        doc_number=None,
        source="川观新闻",
        language="zh-Hans+en",
        doc_type="新闻",
    ),
    "002_6d643657cc6bd2cc.txt": DocumentMeta(
        title="武侯區產業園區高質量發展大會召開",
        date="2024-11-16",
        doc_number=None,
        source="中新網四川",
        language="zh-Hant",
        doc_type="新闻",
        region="武侯區",
    ),
    "003_d16aa114267aa042.txt": DocumentMeta(
        title="王晓晖主持召开省推动成渝地区双城经济圈建设暨推进区域协同发展领导小组第五次会议强调",
        date="2023-04-27",
        doc_number=None,
        source="川观新闻",
        language="zh-Hans",
        doc_type="新闻",
        region="四川省",  # it names only Sichuan's cities (rag.metadata.region_from_places)
    ),
    "004_8ac6a6207ac107a0.txt": DocumentMeta(
        title="成都:关于创新发展生活性服务业建设高品质和谐宜居生活城市的意见",
        date="2018-02-13",
        doc_number=None,
        source="成都市人民政府新闻办公室",
        language="zh-Hans",
        doc_type="意见",
        region="成都市",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_metadata(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    assert extract_metadata(text, filename=name) == EXPECTED[name]


def test_loader_attaches_metadata_to_corpus_documents() -> None:
    document = load_document(CORPUS / "000_2d3ce4a55c8786ef.txt")
    assert document.doc_id == "000_2d3ce4a55c8786ef"
    assert document.meta == EXPECTED["000_2d3ce4a55c8786ef.txt"]
    assert "川办函〔202031" in document.text  # the loader keeps the raw text; only metadata is repaired


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("202061", "2020-06-01"),
        ("20200601", "2020-06-01"),
        ("2020061", "2020-06-01"),
        ("20201231", "2020-12-31"),
        ("2020131", "2020-01-31"),
        ("2020111", None),  # 2020-01-11 or 2020-11-01
        ("2020101", None),  # 2020-01-01 or 2020-10-01
        ("2020132", None),  # no valid split
        ("20201301", None),  # month 13
        ("2020", None),
        ("川办函202031", None),
    ],
)
def test_repair_date_only_when_unambiguous(digits: str, expected: str | None) -> None:
    assert repair_date(digits) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("标题在这里\n2020-06-01\n正文。", "2020-06-01"),
        ("标题在这里\n2024年11月16日 14:11\n正文。", "2024-11-16"),
        ("标题在这里\n发布日期：2023年04月27日\n正文。", "2023-04-27"),
        ("标题在这里\n2019/6/5\n正文。", "2019-06-05"),
        ("标题在这里\n2019-06-05 13:58\n時間:2018年02月13日 15:48\n正文。", "2018-02-13"),
        ("标题在这里\n\n正文没有日期。\n\n四川省人民政府办公厅\n202061", "2020-06-01"),
        ("标题在这里\n\n正文没有日期。\n\n2020111", None),
        ("标题在这里\n\n正文提到2020年2月30日这个不存在的日期。", None),
    ],
)
def test_date_extraction(text: str, expected: str | None) -> None:
    assert extract_metadata(text).date == expected


# --- document numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("川办函〔2020〕31号", "川办函〔2020〕31号"),
        ("国发〔2019〕5号", "国发〔2019〕5号"),
        ("国办发[2018]12号", "国办发〔2018〕12号"),
        ("成府发(2017)3号", "成府发〔2017〕3号"),
        ("川府发（2016）第007号", "川府发〔2016〕7号"),
        ("川办函〔202031", "川办函〔2020〕31号"),
        ("根据国发〔2019〕5号文件精神", "国发〔2019〕5号"),
        ("2020年31号", None),
        ("没有文号的句子", None),
    ],
)
def test_parse_doc_number(text: str, expected: str | None) -> None:
    assert parse_doc_number(text) == expected


def test_own_doc_number_is_taken_from_the_header_not_from_citations() -> None:
    cited = "按照《关于加快发展的意见》(国发〔2019〕5号)要求，结合本地实际情况，现将有关事项通知如下。"
    assert extract_metadata(f"关于某事的通知\n成府发〔2021〕8号\n\n{cited}").doc_number == "成府发〔2021〕8号"
    assert (
        extract_metadata(f"关于某事的通知\n文号：成府发〔2021〕8号\n\n{cited}").doc_number
        == "成府发〔2021〕8号"
    )
    assert extract_metadata(f"关于某事的通知\n\n{cited}").doc_number is None


def test_broken_doc_number_is_repaired_only_on_its_own_line() -> None:
    assert extract_metadata("通知标题在这里\n川办函〔202031\n正文。").doc_number == "川办函〔2020〕31号"
    assert extract_metadata("通知标题在这里\n\n正文提到川办函〔202031等文件。").doc_number is None


# --- titles, sources, ruby -------------------------------------------------------------------


def test_title_skips_banners_breadcrumbs_and_strips_ruby() -> None:
    text = "中新社四川分社正文\n\n首頁(yè) > cdxw > 中新網(wǎng)四川\n\n發(fā)展大會(huì)召開\n正文……"
    assert extract_metadata(text).title == "發展大會召開"


def test_title_keeps_the_chinese_part_of_a_bilingual_line() -> None:
    text = "关于加快发展的意见Opinions on Accelerating the Development\n正文。"
    assert extract_metadata(text).title == "关于加快发展的意见"
    assert (
        extract_metadata("Opinions on Accelerating Development\nBody text.").title
        == "Opinions on Accelerating Development"
    )


def test_html_title_hint_wins_and_filename_is_the_last_resort() -> None:
    assert extract_metadata("正文。", html_title="网页标题").title == "网页标题"
    assert extract_metadata("第一段就是正文，没有标题。", filename="notice.txt").title == "notice"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("标题在这里\n2024年11月16日 來源:中新網四川 編輯:曹惠君\n正文。", "中新網四川"),
        ("标题在这里\n来源： 川观新闻\n正文。", "川观新闻"),
        ("标题在这里\n四川省人民政府办公厅2020-06-01\n正文。", "四川省人民政府办公厅"),
        ("标题在这里\n正文。", None),
    ],
)
def test_source(text: str, expected: str | None) -> None:
    assert extract_metadata(text).source == expected


# --- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("四川省人民政府关于促进服务业发展的意见", "zh-Hans"),
        ("四川省人民政府關於促進服務業發展的意見", "zh-Hant"),
        ("國(guó)務(wù)院關於產業發展的決定", "zh-Hant"),
        ("The People's Government of Sichuan Province issued opinions on services.", "en"),
        ("促进服务业发展\nPromoting the development of the service industry", "zh-Hans+en"),
        ("12345 ...", None),
    ],
)
def test_document_language(text: str, expected: str | None) -> None:
    assert document_language(text) == expected


# --- official documents: issuer, type, region, date of effect; the sidecar -----------------------

RED_HEADER = """四川省人民政府办公厅文件

川办发〔2021〕12号

四川省人民政府办公厅关于印发《四川省服务业发展规划》的通知

各市(州)人民政府：
现将规划印发给你们，请认真贯彻执行。本通知自2021年7月1日起施行。

四川省人民政府办公厅
2021年6月15日
"""


def test_a_red_header_document_gives_issuer_number_type_dates_and_region() -> None:
    meta = extract_metadata(RED_HEADER)
    assert meta.title == "四川省人民政府办公厅关于印发《四川省服务业发展规划》的通知"
    assert meta.issuer == "四川省人民政府办公厅"
    assert meta.doc_number == "川办发〔2021〕12号"
    assert meta.doc_type == "通知"
    assert meta.date == "2021-06-15"  # the signature date, not the date of effect in the body
    assert meta.effective_date == "2021-07-01"
    assert meta.region == "四川省"


@pytest.mark.parametrize(
    ("text", "issuer", "doc_type", "effective"),
    [
        ("成都市商务局\n\n关于开展试点的实施方案\n\n本方案自印发之日起施行。\n\n成都市商务局\n2022年3月1日",
         "成都市商务局", "方案", "2022-03-01"),
        ("发文机关：四川省商务厅\n\n关于促进消费的若干措施办法\n\n2023年5月4日", "四川省商务厅", "办法", None),
        ("一则消息\n\n2024年1月2日 来源：川观新闻\n\n正文。", None, "新闻", None),
    ],
)  # fmt: skip
def test_issuer_type_and_date_of_effect_rules(text, issuer, doc_type, effective) -> None:
    meta = extract_metadata(text)
    assert (meta.issuer, meta.doc_type, meta.effective_date) == (issuer, doc_type, effective)


def test_a_park_is_not_a_region() -> None:
    assert extract_metadata("天府软件园区建设情况\n\n正文。").region is None


def test_a_sidecar_overrides_the_rules_and_is_part_of_the_file_state(tmp_path: Path) -> None:
    from rag.ingest import file_sha256

    path = tmp_path / "notice.txt"
    path.write_text(RED_HEADER, encoding="utf-8")
    before = file_sha256(path)
    assert load_document(path).sha256 == before
    (tmp_path / "notice.meta.toml").write_text(
        'issuer = "四川省人民政府"\ndate = 2021-06-16\ndoc_type = "规划"\nregion = "川"\n', encoding="utf-8"
    )
    document = load_document(path)
    assert (document.meta.issuer, document.meta.date, document.meta.doc_type) == (
        "四川省人民政府",
        "2021-06-16",
        "规划",
    )
    assert document.meta.doc_number == "川办发〔2021〕12号"  # not in the sidecar: from the rules
    assert document.sha256 == file_sha256(path) != before  # editing the sidecar re-ingests


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ('issuer = "x"\npublisher = "y"\n', "unknown keys publisher"),
        ('date = "June"\n', "date must be a date.*'June'"),
        ("title = 3\n", "title must be text; got 3"),
        ("title = \n", "not valid TOML"),
    ],
)
def test_a_bad_sidecar_is_refused_naming_the_key(tmp_path: Path, sidecar: str, message: str) -> None:
    from rag.errors import LoadError

    (tmp_path / "a.txt").write_text("关于开展试点的通知\n\n正文。", encoding="utf-8")
    (tmp_path / "a.meta.toml").write_text(sidecar, encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        load_document(tmp_path / "a.txt")


def test_the_region_is_read_from_the_places_only_when_they_all_lie_in_one_division():
    from rag.metadata import region_from_places

    assert (
        region_from_places("推动绵阳、宜宾—泸州、南充—达州省域经济副中心建设，成都要发挥极核作用") == "四川省"
    )
    assert region_from_places("成都要发挥极核作用") is None  # one place says too little
    assert region_from_places("成都、绵阳与重庆携手") is None  # Chongqing lies outside Sichuan
    assert region_from_places("Chengdu and Mianyang lead the province") == "四川省"
