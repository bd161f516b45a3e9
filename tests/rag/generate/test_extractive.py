"""The extractive generator over the real corpus (in-memory Chroma, the hash embedder) with the
hand-written evidence model of conftest.py; the trained model runs in the integration tests."""

from dataclasses import replace

import pytest

from rag.generate.extractive import ExtractiveGenerator
from rag.retrieve import Retriever
from rag.types import Passage


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


@pytest.fixture
def generator(kb, lexical_evidence):
    return ExtractiveGenerator(evidence=lexical_evidence(kb.embedder, kb.keyword))


def ask(kb, generator, question, k=5):
    passages = Retriever(kb).retrieve(question, k=k).passages
    return generator.generate(question, passages)


def test_the_answer_leads_with_the_figure_then_quotes_it_with_exact_spans(kb, generator):
    answer = ask(kb, generator, "四川省成功创建了多少个省级现代服务业集聚区？")
    assert not answer.abstained and answer.language == "zh-Hans"
    assert answer.text.startswith("**49个**")
    assert "「" in answer.text and "49个省级现代服务业集聚区" in answer.text and "[1]" in answer.text
    assert answer.answerability is not None and answer.answerability >= 0.5
    first = answer.citations[0]
    assert first.highlighted == ["49个"]
    for citation in answer.citations:
        assert citation.passage[citation.span_start : citation.span_end] == citation.span
        assert citation.span in answer.text
        assert citation.doc_end - citation.doc_start == len(citation.span)
        for a, b in citation.highlights:
            assert citation.span_start <= a < b <= citation.span_end


def test_an_english_question_quotes_the_english_half_of_a_bilingual_pair(kb, generator):
    english = ask(
        kb, generator, "How many provincial modern service industry clusters has Sichuan established?"
    )
    assert not english.abstained
    assert "49 provincial modern service industry clusters" in english.text
    assert not any("集聚区" in c.span for c in english.citations)


def test_traditional_question_cites_the_traditional_document(kb, generator):
    answer = ask(kb, generator, "武侯區產業園區高質量發展大會是哪天召開的？")
    assert {c.doc_id[:3] for c in answer.citations} == {"002"}
    assert "15日" in answer.text


def test_question_about_something_absent_abstains_with_closest_passages(kb, generator):
    answer = ask(kb, generator, "上海自贸区的负面清单有多少条？")
    assert answer.abstained and not answer.citations
    assert answer.text.startswith("文档中没有")
    assert "_" not in answer.text.split("最接近的段落")[1]  # titles, not raw document ids
    english = ask(kb, generator, "What is the population of Tibet?")
    assert english.abstained and english.text.startswith("The documents do not answer")


def test_a_refusal_lists_each_closest_passage_once_as_title_and_section(lexical_evidence, hash_embedder):
    passages = [
        Passage(
            chunk_id=f"c{i}",
            doc_id="004_x",
            text="毫不相干的内容。",
            start=0,
            end=8,
            title="成都意见",
            section="一、总体要求",
        )
        for i in range(3)
    ]
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    answer = generator.generate("上海的负面清单有多少条？", passages)
    assert answer.abstained
    assert answer.text.endswith("最接近的段落：成都意见 › 一、总体要求")


def test_no_passages_means_an_empty_knowledge_base_message(lexical_evidence, hash_embedder):
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    answer = generator.generate("任何问题？", [])
    assert answer.abstained and "rag ingest" in answer.text


def test_options_are_validated(lexical_evidence, hash_embedder):
    with pytest.raises(ValueError, match="got 0"):
        ExtractiveGenerator(evidence=lexical_evidence(hash_embedder), max_quotes=0)


def test_a_sentence_repeated_within_a_document_is_quoted_once(lexical_evidence, hash_embedder):
    lead = "中新網四川新聞11月16日電 武侯區產業園區高質量發展大會15日召開。"
    caption = "武侯區產業園區高質量發展大會15日召開。武侯區委宣傳部供圖"
    passages = [
        Passage(chunk_id=f"002:{i}", doc_id="002", text=text, start=0, end=len(text))
        for i, text in enumerate([lead, caption])
    ]
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder, also_quote_above=0.0))
    answer = generator.generate("武侯區產業園區高質量發展大會是哪天召開的？", passages)
    spans = [c.span for c in answer.citations]
    assert len([s for s in spans if "15日召開" in s]) == 1


def test_a_list_question_quotes_every_enumerated_item(lexical_evidence, hash_embedder):
    text = (
        "会议透露,下一步将重点在三个方面着力:\n一是加快建设现代化产业体系,推动融合发展。\n"
        "二是扩大高水平对外开放,办好展会。\n三是持续优化营商环境。\n会议还研究了其他事项。"
    )
    passages = [Passage(chunk_id="c1", doc_id="001", text=text, start=0, end=len(text))]
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    answer = generator.generate("会议透露下一步重点在哪三个方面着力？", passages)
    assert not answer.abstained
    for item in ("加快建设现代化产业体系", "扩大高水平对外开放", "持续优化营商环境"):
        assert item in answer.text
    assert "其他事项" not in answer.text
    assert len(answer.citations) == 1 and answer.text.count("[1]") == 4
    assert answer.citations[0].highlighted == [
        "加快建设现代化产业体系",
        "扩大高水平对外开放",
        "持续优化营商环境",
    ]


def test_an_english_question_over_chinese_text_says_so(lexical_evidence, hash_embedder):
    text = "成都将建设三大休闲游憩带。到2022年,生活性服务业增加值达到5000亿元以上。"
    passages = [Passage(chunk_id="c1", doc_id="004", text=text, start=0, end=len(text), dense_similarity=0.9)]
    evidence = lexical_evidence(hash_embedder, answerable=lexical_params_answer_all())
    answer = ExtractiveGenerator(evidence=evidence).generate(
        "What value added did 生活性服务业 target by 2022?", passages
    )
    assert answer.text.startswith("The documents state this in Chinese: 「")
    assert "5000亿元" in answer.text


def lexical_params_answer_all():
    from fakes import SET_FEATURES, _model

    return _model(SET_FEATURES, {}, 5.0)


def test_a_date_without_its_year_gets_the_documents_year_labelled(lexical_evidence, hash_embedder):
    passage = Passage(
        chunk_id="c1",
        doc_id="002_x",
        text="中新网四川新闻11月16日电 武侯区产业园区高质量发展大会15日召开。",
        start=0,
        end=34,
        title="武侯区产业园区高质量发展大会召开",
        date="2024-11-16",
    )
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    answer = generator.generate("武侯区产业园区高质量发展大会是哪天召开的？", [passage])
    assert not answer.abstained
    assert answer.text.startswith("**15日**召开（2024年，据文档日期） — 「")
    english = generator.generate(
        "武侯区产业园区高质量发展大会是哪年哪天召开的？", [replace(passage, date=None)]
    )
    assert "据文档日期" not in english.text


def test_a_document_number_question_quotes_the_number_line_and_not_a_translation_without_it(
    lexical_evidence, hash_embedder
):
    # The header of a bilingual notice: the number's English twin is shorter than a sentence,
    # and the issuing body's English name on the line before shares none of its figures.
    text = (
        "四川省人民政府办公厅2020-06-01\nGeneral Office of the People's Government of Sichuan Province\n"
        "川办函〔2020〕31号\nCBH [2020] No. 31\n各市(州)人民政府,省政府各部门:"
    )
    passage = Passage(
        chunk_id="c1", doc_id="000", text=text, start=0, end=len(text), title="表扬通报", dense_similarity=0.9
    )
    evidence = lexical_evidence(hash_embedder, answerable=lexical_params_answer_all())
    answer = ExtractiveGenerator(evidence=evidence).generate(
        "What is the document number of the Sichuan General Office's notification?", [passage]
    )
    assert not answer.abstained
    assert "CBH [2020] No. 31" in answer.text and "General Office" not in answer.text
    without_twin = replace(passage, text=text.replace("CBH [2020] No. 31", "Attachment"))
    answer = ExtractiveGenerator(evidence=evidence).generate(
        "What is the document number of the Sichuan General Office's notification?", [without_twin]
    )
    assert "川办函〔2020〕31号" in answer.text and "General Office" not in answer.text
