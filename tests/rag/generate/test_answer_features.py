from rag.generate.candidates import candidates_of
from rag.generate.eligibility import eligibility
from rag.question import analyse_question
from rag.types import Passage


def test_only_a_sentence_holding_a_document_number_can_answer_a_document_number_question():
    text = "四川省人民政府办公厅2020-06-01\n川办函〔2020〕31号\n各市(州)人民政府,省政府各部门:"
    passages = [Passage(chunk_id="c1", doc_id="000", text=text, start=0, end=len(text))]
    candidates = candidates_of(passages)
    keep = eligibility(analyse_question("这份通报的文号是什么？"), passages, candidates)
    assert [c.text for c, k in zip(candidates, keep, strict=True) if k] == ["川办函〔2020〕31号"]
    everything = eligibility(analyse_question("这份通报是谁印发的？"), passages, candidates)
    assert everything.tolist() == [1.0] * len(candidates)
