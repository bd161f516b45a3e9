"""Questions about a document itself, answered from its header and byline lines."""

from rag.generate.candidates import candidates_of
from rag.generate.docfacts import asked_facts, fact_lines, states_document_fact
from rag.generate.eligibility import eligibility
from rag.question import analyse_question
from rag.types import Passage

NOTICE = Passage(
    chunk_id="n:1",
    doc_id="n",
    text=(
        "四川省人民政府办公厅关于表扬四川省现代服务业集聚区创新发展先进单位的通报\n四川省人民政府办公厅2020-06-01\n\n"
        "川办函〔202031\nCBH [2020] No. 31\n\n各市(州)人民政府,省政府各部门、各直属机构,有关单位:\n"
        "近年来,各地各部门成功创建49个省级现代服务业集聚区。"
    ),
    start=0,
    end=140,
    title="四川省人民政府办公厅关于表扬四川省现代服务业集聚区创新发展先进单位的通报",
    date="2020-06-01",
    doc_number="川办函〔2020〕31号",
    issuer="四川省人民政府办公厅",
    doc_type="通报",
)
NEWS = Passage(
    chunk_id="w:1",
    doc_id="w",
    text="武侯區產業園區高質量發展大會召開\n\n2024年11月16日 14:11 來源:中新網四川 編輯:曹惠君\n\n大會15日召開。(記者 張立東)",
    start=0,
    end=60,
    title="武侯區產業園區高質量發展大會召開",
    date="2024-11-16",
    doc_type="新闻",
)


def quoted(question, passages):
    lines = fact_lines(analyse_question(question), passages)
    return [
        (
            passages[f.passage_index].text[f.start : f.end],
            [passages[f.passage_index].text[a:b] for a, b in f.highlights],
        )
        for f in lines
    ]


def test_the_date_of_issue_is_the_header_line_with_the_document_date():
    assert quoted("这份通报是哪天印发的？", [NOTICE]) == [("四川省人民政府办公厅2020-06-01", ["2020-06-01"])]
    assert quoted("When was the notification issued?", [NOTICE])[0][1] == ["2020-06-01"]


def test_the_document_number_is_found_as_printed_or_in_english():
    assert quoted("這份通報的文號是什麼？", [NOTICE]) == [("川办函〔202031", ["川办函〔202031"])]
    assert quoted("What is the document number of the notification?", [NOTICE]) == [
        ("CBH [2020] No. 31", ["[2020] No. 31"])
    ]


def test_addressees_outlet_editor_and_reporter():
    assert quoted("這份通報是發給哪些單位的？", [NOTICE])[0][0].startswith("各市(州)人民政府")
    outlet_and_editor = quoted("這篇報道出自哪家媒體？編輯是誰？", [NEWS])
    assert outlet_and_editor == [
        ("2024年11月16日 14:11 來源:中新網四川 編輯:曹惠君", ["中新網四川", "曹惠君"])
    ]
    assert quoted("這篇會議報道的記者是誰？", [NEWS])[0][1] == ["張立東"]


def test_questions_about_something_else_are_not_document_facts():
    # an event's date, not the document's
    assert asked_facts(analyse_question("第六次会议是哪天召开的？")) == ()
    # a document the passage mentions is not the passage's document
    assert quoted("《成都市实施方案》是哪天印发的？", [NOTICE]) == []
    # a news report has no document number: nothing is made up
    assert quoted("這篇報道的文號是什麼？", [NEWS]) == []
    # every fact asked must be stated: a notice names no reporter
    assert quoted("这份通报是哪天印发的？记者是谁？", [NOTICE]) == []


def test_the_extractive_answer_quotes_the_header_line(lexical_evidence, hash_embedder):
    from rag.generate.extractive import ExtractiveGenerator

    class Stats:
        def idf(self, term):
            return 1.0

        def known(self, term):
            return True

    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder, Stats()))
    answer = generator.generate("这份通报是哪天印发的？", [NOTICE])
    assert not answer.abstained
    assert answer.text.startswith("**2020-06-01** — 「四川省人民政府办公厅2020-06-01」 [1]")
    assert answer.citations[0].highlighted == ["2020-06-01"]


def test_header_and_byline_lines_are_told_from_content():
    def line(passage, text):
        start = passage.text.index(text)
        return states_document_fact(passage, start, start + len(text))

    assert line(NEWS, "2024年11月16日 14:11 來源:中新網四川 編輯:曹惠君")
    assert line(NOTICE, "川办函〔202031") and line(NOTICE, "CBH [2020] No. 31")
    assert line(NOTICE, "四川省人民政府办公厅2020-06-01")
    assert not line(NEWS, "大會15日召開。")
    assert not line(NOTICE, "近年来,各地各部门成功创建49个省级现代服务业集聚区。")


def test_a_byline_answers_only_a_question_about_the_document():
    # dev-039: "What does Wuhou District want its parks to become?" was answered with the byline.
    candidates = candidates_of([NEWS])
    byline = [c.text.startswith("2024年11月16日") for c in candidates]
    about_content = eligibility(analyse_question("武侯区要把园区建成什么？"), [NEWS], candidates)
    about_document = eligibility(analyse_question("这篇报道的编辑是谁？"), [NEWS], candidates)
    a_date = eligibility(analyse_question("大会的报道是几月几日刊出的？"), [NEWS], candidates)
    assert [k for k, b in zip(about_content, byline, strict=True) if b] == [0.0]
    assert [k for k, b in zip(about_document, byline, strict=True) if b] == [1.0]
    assert [k for k, b in zip(a_date, byline, strict=True) if b] == [1.0]  # a dateline may answer
