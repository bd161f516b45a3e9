"""Compound questions: each part is assessed as a question of its own and answered with its
best sentence (sichuan-dev: "成都规划建设多少个服务业集聚区、多少个现代商圈？" quoted only the 39)."""

from rag.generate.extractive import ExtractiveGenerator
from rag.question import question_parts
from rag.types import Passage

PLAN = Passage(
    chunk_id="p:1",
    doc_id="p",
    text=(
        "规划建设37个服务业集聚区,引导服务业总部企业、平台企业、研发中心等集聚发展。"
        "规划建设39个现代商圈和100条特色街区,引导大型零售、餐饮娱乐等集群发展。"
        "推进高速、泛在、互联的信息基础设施建设。"
    ),
    start=0,
    end=110,
    title="成都:关于创新发展生活性服务业的意见",
)


def test_a_compound_question_divides_into_questions_that_stand_alone():
    assert question_parts("成都规划建设多少个服务业集聚区、多少个现代商圈？") == (
        "成都规划建设多少个服务业集聚区",
        "成都规划建设多少个现代商圈？",
    )
    assert question_parts("武侯区委书记同时担任什么职务？他强调要深入开展什么行动？") == (
        "武侯区委书记同时担任什么职务？",
        "他强调要深入开展什么行动？",
    )
    assert question_parts("Who spoke at the conference, and on which day was it held?") == (
        "Who spoke at the conference",
        "on which day was it held?",
    )


def test_a_single_question_is_one_part():
    for question in (
        "四川省一共成功创建了多少个省级现代服务业集聚区？",
        "推动现代服务业与先进制造业、现代农业深度融合的是哪个计划？",  # 、 inside, one question
        "Which plan did the department implement and build on?",
    ):
        assert question_parts(question) == (question,)


def test_each_part_of_a_compound_question_is_answered(lexical_evidence, hash_embedder):
    generator = ExtractiveGenerator(evidence=lexical_evidence(hash_embedder))
    answer = generator.generate("成都规划建设多少个服务业集聚区、多少个现代商圈？", [PLAN])
    assert not answer.abstained
    assert [c.highlighted for c in answer.citations] == [["37个"], ["39个"]]
    assessment = generator.evidence.assess("成都规划建设多少个服务业集聚区、多少个现代商圈？", [PLAN])
    assert len(assessment.parts) == 2
    assert assessment.answerability == max(p.answerability for p in assessment.parts)
