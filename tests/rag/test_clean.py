"""One test per corpus quirk (data/corpus/README.md), each built from a real line of the corpus."""

from pathlib import Path

from rag.clean import clean_text, drop_repeated, is_chrome, remove_replacement_chars, strip_ruby

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "sichuan"


def read(stem_prefix: str) -> str:
    return next(CORPUS.glob(f"{stem_prefix}_*.txt")).read_text(encoding="utf-8")


def test_pinyin_ruby_is_removed_from_a_real_line_of_002():
    line = "武侯區(qū)產(chǎn)業(yè)園區(qū)高質(zhì)量發(fā)展大會(huì)召開"
    assert line in read("002")
    assert strip_ruby(line * 3) == "武侯區產業園區高質量發展大會召開" * 3


def test_ruby_removal_keeps_real_parentheses():
    line = "7月31日,四川省商务厅召开厅党组(扩大)会议传达学习习近平总书记来川视察重要指示精神"
    assert line in read("001")
    assert strip_ruby(line) == line
    assert strip_ruby("增强现实(AR)/虚拟现实(VR)") == "增强现实(AR)/虚拟现实(VR)"


def test_broken_conversion_question_marks_and_orphaned_ruby_are_removed():
    line = "權(quán)和其它問題需要同本網(wǎng)聯(lián)系的,請(qǐng)?jiān)?0日內(nèi)進(jìn)行。"
    assert line in read("002")
    cleaned = remove_replacement_chars(strip_ruby(line * 2))
    assert "?" not in cleaned and "jiān" not in cleaned
    assert cleaned.startswith("權和其它問題需要同本網聯系的,請")


def test_replacement_character_at_a_cut_off_paragraph_is_removed():
    # 004's paragraphs were cut off mid-sentence with U+FFFD in the original crawl.
    line = "3.定制服务。推进众筹定制、众包设计、柔性供应链等定制服务模式创新"
    assert line in read("004")
    assert remove_replacement_chars(line + "\ufffd") == line


def test_web_navigation_chrome_lines_are_dropped():
    for line in (
        "打印 放大 缩小",
        "  • 【字体:",
        "    扫一扫在手机打开当前页",
        "  • 微信",
        "    Baidu",
        "首頁(yè) > cdxw > 中新網(wǎng)四川",
        "---国土名片网版权所有---",
        "    责任编辑: 许齐棋",
    ):
        raw = read("002") + read("003") + read("004")
        assert line in raw
        assert is_chrome(strip_ruby(line)), line
    assert not is_chrome("4月27日,省推动成渝地区双城经济圈建设暨推进区域协同发展领导小组第五次会议召开")


def test_copyright_footer_and_everything_after_it_are_dropped():
    cleaned = clean_text(read("002"))
    assert "版權與免責聲明" not in cleaned and "62938795" not in cleaned
    assert cleaned.rstrip().endswith("為園區發展持續注入動力。(完)")


def test_article_repeated_twice_collapses_to_one_copy():
    raw = read("003")
    sentence = "省委副书记、省长、领导小组第一副组长黄强出席会议并讲话。"
    assert raw.count(sentence) == 2
    cleaned = clean_text(raw)
    assert cleaned.count(sentence) == 1
    assert "主办单位" not in cleaned and "微博" not in cleaned


def test_drop_repeated_keeps_short_lines_that_recur():
    assert drop_repeated(
        ["五、保障措施", "正文一段很长的内容。", "五、保障措施", "正文一段很长的内容。"]
    ) == [
        "五、保障措施",
        "正文一段很长的内容。",
        "五、保障措施",
    ]


def test_bilingual_paragraphs_survive_cleaning_in_order():
    cleaned = clean_text(read("000"))
    zh = cleaned.index("成功创建49个省级现代服务业集聚区")
    en = cleaned.index("49 provincial modern service industry clusters")
    assert zh < en
