from rag.glossary import translate
from rag.terms import coverage, query_term_sets


def test_longest_phrase_wins_and_residual_keeps_the_rest():
    result = translate("How much value added should Chengdu's life service industry reach?")
    assert result.chinese == ["增加值", "成都", "生活性服务业"]
    assert "reach" in result.residual and "chengdu" not in result.residual


def test_place_names_map_to_chinese():
    assert translate("What is the population of Tibet?").chinese == ["西藏"]
    assert translate("Who is the mayor of Chongqing?").chinese == ["市长", "重庆"]


def test_chinese_questions_get_one_term_set_and_english_two():
    assert len(query_term_sets("四川省成功创建了多少个省级现代服务业集聚区？")) == 1
    terms, translated = query_term_sets("What did the Wuhou District industrial park conference emphasise?")
    assert "wuhou" in terms and "武侯区" in translated and "产业园" in translated


def test_coverage_takes_the_best_term_set_and_counts_unknown_terms():
    sets = [["mayor", "chongqing"], ["市长", "重庆"]]
    idf = {"mayor": 1.0, "chongqing": 1.0, "市长": 2.0, "重庆": 2.0}.get
    assert coverage(sets, "重庆市长".__contains__, idf) == 1.0
    assert coverage(sets, "成都市长".__contains__, idf) == 0.5
    assert coverage(sets, "mayor of chengdu".__contains__, idf) == 0.5


def test_places_are_read_longest_glossary_phrase_first_and_know_what_holds_them():
    from rag.glossary import names_place, place_parent, places_in

    assert places_in("Sichuan's Chengdu-Chongqing twin-city economic circle") == {"四川"}
    assert places_in("Chengdu and Chongqing") == {"成都", "重庆"}
    assert place_parent("绵阳") == "四川省" and place_parent("重庆") is None
    assert names_place("四川", frozenset({"成都"}))  # Chengdu lies in Sichuan
    assert not names_place("成都", frozenset({"四川"}))  # a Sichuan-wide passage is not about Chengdu
    assert names_place("四川", frozenset(), region="四川省")  # the document's region
    assert not names_place("贵州", frozenset({"成都"}), region="四川省")


def test_policy_vocabulary_is_no_place():
    # "Science City" (科学城) and "Health City" (健康城) are development zones, not places a
    # passage must name; only the glossary's place sections make places.
    from rag.glossary import places_in

    assert places_in("Where is the Chengdu Health City project centred?") == {"成都"}
    assert places_in("Which platforms does the Western Science City host?") == set()
    assert "科学城" in translate("Western Science City").chinese
