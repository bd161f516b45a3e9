from rag.generate.direct import find_answer, quote_window
from rag.question import analyse_question

SENTENCE = (
    "近年来,各地各部门(单位)坚持以习近平新时代中国特色社会主义思想为指导,积极创新服务业发展路径,"
    "大力推动服务业集聚集群发展,成功创建49个省级现代服务业集聚区,并涌现出一批先进典型。"
)


def _found(question: str, sentence: str) -> list[str]:
    found = find_answer(analyse_question(question), sentence)
    return [] if found is None else [sentence[a:b] for a, b in found.spans]


def test_the_number_asked_for_with_its_unit():
    assert _found("四川省已成功创建多少个省级现代服务业集聚区？", SENTENCE) == ["49个"]


def test_a_number_the_question_states_is_not_the_answer():
    sentence = "形成5个千亿级消费市场,生活性服务业增加值达到5000亿元以上。"
    assert _found("增加值要达到多少？", sentence) == ["5000亿元"]
    assert _found("形成5个什么市场，增加值达到多少？", sentence)[0].startswith("5000")


def test_dates_doc_numbers_and_people():
    assert _found("会议是哪天召开的？", "4月27日,领导小组第五次会议召开。") == ["4月27日"]
    assert _found("通报的文号是什么？", "川办函〔2020〕31号") == ["川办函〔2020〕31号"]
    assert _found("主持会议的是谁？", "省委书记、领导小组组长王晓晖主持会议并讲话。") == ["王晓晖"]


def test_no_span_for_a_kind_without_a_rule():
    assert find_answer(analyse_question("为什么要建设园区？"), SENTENCE) is None


def test_a_long_sentence_is_quoted_around_the_answer():
    question = analyse_question("四川省已成功创建多少个省级现代服务业集聚区？")
    found = find_answer(question, SENTENCE)
    a, b = quote_window(SENTENCE, found.spans, question)
    quoted = SENTENCE[a:b]
    assert "49个省级现代服务业集聚区" in quoted
    assert len(quoted) < len(SENTENCE)
    assert not quoted.endswith(",")


def test_a_bare_chinese_numeral_is_not_a_quantity():
    question = analyse_question("成都要建设多少个国际化社区？")
    assert find_answer(question, "建设“十景四园一带”,重点发展文创") is None
    assert find_answer(question, "建设十个国际化社区").spans == ((2, 4),)


def test_a_date_question_takes_the_date_its_verb_follows_not_the_dateline():
    question = analyse_question("武侯区产业园区高质量发展大会是哪天召开的？")
    sentence = "中新网四川新闻11月16日电 武侯区产业园区高质量发展大会15日召开。"
    ((start, end),) = find_answer(question, sentence).spans
    assert sentence[start:end] == "15日"


def test_a_determiner_is_not_a_count():
    question = analyse_question("成都要建设多少个国际化社区？")
    assert find_answer(question, "使每一个消费行为成为唯一的体验。") is None


def test_the_size_of_a_list_does_not_count_what_one_member_has():
    listed = "决定对成都春熙路时尚活力区、绵阳金家林总部经济试验区、泸州医药产业园区等10个省级现代服务业集聚区予以通报表扬。"
    assert find_answer(analyse_question("成都一共成功创建了多少个省级现代服务业集聚区？"), listed) is None
    # the list's size is what a question about the whole asks for
    whole = find_answer(analyse_question("四川省通报表扬了多少个省级现代服务业集聚区？"), listed)
    assert whole is not None and listed[slice(*whole.spans[0])].startswith("10个")
    # a member's own figure, stated outside the list, still answers
    own = "成都创建了15个集聚区，" + listed
    found = find_answer(analyse_question("成都一共创建了多少个集聚区？"), own)
    assert found is not None and own[slice(*found.spans[0])] == "15个"


def test_a_list_item_number_is_not_a_quantity():
    assert find_answer(analyse_question("成都要建设多少个国际化社区？"), "4.餐饮服务。") is None
    assert find_answer(analyse_question("增长了多少？"), "2.增长3.5%。") is not None


def test_a_digit_that_starts_a_name_is_not_a_quantity():
    question = analyse_question("全市固定宽带家庭普及率要超过多少？")
    found = find_answer(question, "加快启用5G通信,实现全市固定宽带家庭普及率超过90%,窄带物联网深度覆盖。")
    sentence = "加快启用5G通信,实现全市固定宽带家庭普及率超过90%,窄带物联网深度覆盖。"
    assert [sentence[a:b] for a, b in found.spans] == ["90%"]


def test_a_question_about_money_is_answered_by_an_amount_of_money():
    sentence = "建设以诺亚方舟自然科学与现代博物馆为核心的8个可持续发展生态中心,总投资120亿元。"
    for question in ("熊猫星球项目投资多少？", "How much will Chengdu invest in the Panda Planet project?"):
        found = find_answer(analyse_question(question), sentence)
        assert [sentence[a:b] for a, b in found.spans] == ["120亿元"]
    assert find_answer(analyse_question("熊猫星球项目投资多少？"), "建设8个可持续发展生态中心。") is None
    assert find_answer(analyse_question("熊猫星球要建设几个生态中心？"), "建设8个可持续发展生态中心。")
