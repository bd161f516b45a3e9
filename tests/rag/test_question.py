import pytest

from rag.question import analyse_question, question_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("四川省已成功创建多少个省级现代服务业集聚区？", "number"),
        ("How many provincial modern service industry clusters has Sichuan established?", "number"),
        ("通报是哪一天发布的？", "date"),
        ("When was the conference held?", "date"),
        ("这份通报的文号是什么？", "doc_number"),
        ("What is the document number of the notice?", "doc_number"),
        ("出席会议并讲话的省长是谁？", "person"),
        ("Who chaired the meeting?", "person"),
        ("成都计划建设的三大休闲游憩带是哪三个？", "list"),
        ("推动现代服务业与哪些产业深度融合？", "list"),
        # "哪几" asks for the items, "几类" for a count
        ("會議強調要圍繞哪幾個方面推動園區發展？", "list"),
        ("基本公共服务设施攻坚行动涵盖几类？", "number"),
        ("Which three things must be improved?", "list"),
        ("Which nine fields of life services are to be upgraded?", "list"),
        ("南充市的集聚区是哪一个？", "entity"),
        ("为何要建设这些园区", "other"),
    ],
)
def test_kinds(question, kind):
    assert question_kind(question) == kind


def test_analysis_finds_years_numbers_places_and_terms():
    q = analyse_question("成都提出到2025年生活性服务业增加值要达到5000亿元吗？")
    assert q.language == "zh-Hans"
    assert q.years == ("2025",)
    assert q.numbers == ("5000",)
    assert "成都" in q.places
    assert "生活性" in q.terms or "生活" in q.terms


def test_an_english_question_also_carries_its_glossary_translation():
    q = analyse_question("How many service industry clusters did Chengdu plan?")
    assert q.language == "en"
    assert len(q.term_sets) == 2
    assert "成都" in q.places


def test_adjacent_word_pairs_are_the_phrases_a_passage_should_hold():
    assert analyse_question("成都要建设多少个国际化社区？").phrases == ("国际化社区",)
    assert "现代服务业" in analyse_question("四川省成功创建了多少个省级现代服务业集聚区？").phrases
    assert analyse_question("How many clusters?").phrases == ()


@pytest.mark.parametrize("text", ["hi", "Hello!", "thank you", "你好", "謝謝！"])
def test_greetings_are_small_talk(text):
    assert analyse_question(text).small_talk


def test_a_question_is_not_small_talk():
    assert not analyse_question("hi, how many clusters has Sichuan established?").small_talk


def test_the_total_value_of_something_is_a_number():
    assert question_kind("What was the total value of Sichuan's foreign trade in 2023?") == "number"
