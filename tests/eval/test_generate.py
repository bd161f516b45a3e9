"""Test-set generation with a scripted chat model: drafts that keep the rules are written in our
JSONL format for review; the others are dropped and counted; no LLM configured is refused."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from cli.main import main
from eval.datasets import load_jsonl
from eval.generate import (
    GenerateOptions,
    SourcePassage,
    TestsetGenerator,
    draft_testset,
    knowledge_base_passages,
    sample_passages,
    write_draft,
)
from rag.textnorm import detect_language


class RecordingModel(FakeListChatModel):
    """FakeListChatModel that also keeps the prompts it was sent."""

    sent: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.sent.append(messages)
        return super()._call(messages, stop=stop, run_manager=run_manager, **kwargs)


def cjk_span(text: str, size: int = 10) -> str:
    return re.search(rf"[\u4e00-\u9fff]{{{size}}}", text).group(0)


@pytest.fixture
def kb(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    return kb


def test_drafts_from_a_knowledge_base_are_checked_and_written_in_our_format(kb, tmp_path):
    order = sample_passages(knowledge_base_passages(kb), seed=0)
    first, second, third, fourth = order[:4]
    span1, span3 = cjk_span(first.text), cjk_span(third.text)
    replies = [
        json.dumps(
            {"question": f"文件中“{span1[:4]}”之后写的是什么？", "evidence": span1, "answer": [[span1[4:8]]]}
        ),
        "Sorry, I cannot help with that.",  # not JSON: dropped, the next passage is tried
        json.dumps(
            {"question": "What does the document say next?", "evidence": span3, "answer": [span3[:3]]}
        ),
        json.dumps(
            {"question": "四川省2035年的目标是多少？", "missing": "没有2035年的数字"}, ensure_ascii=False
        ),
    ]
    model = RecordingModel(responses=replies)
    options = GenerateOptions(n=3, langs=("zh-Hans", "en", "zh-Hant"), unanswerable=0.34)
    draft = draft_testset(kb, model, options, name="scripted")

    assert [i["id"] for i in draft.items] == ["gen-001", "gen-002", "gen-003"]
    assert draft.rejected == [f"{second.chunk_id}: the reply is not a JSON object"]
    one, two, three = draft.items
    assert (one["doc"], one["evidence"], one["answer"], one["lang"]) == (
        first.doc_id,
        [span1],
        [[span1[4:8]]],
        "zh-Hans",
    )
    assert two["lang"] == "en" and two["answer"] == [[span3[:3]]] and two["doc"] == third.doc_id
    assert (
        three["answerable"] is False
        and three["doc"] is None
        and three["tags"] == ["generated", "unanswerable", "near_miss"]
    )
    assert (
        detect_language(three["question"]) == "zh-Hant" and three["question"] == "四川省2035年的目標是多少？"
    )
    assert three["generated"] == {
        "chunk_id": fourth.chunk_id,
        "model": "scripted",
        "prompt": "testset.v1",
        "missing": "没有2035年的数字",
    }
    assert all(item["review"] == "draft" for item in draft.items)

    path = write_draft(draft, tmp_path / "draft.jsonl")
    items = load_jsonl(path)  # the draft is a valid dataset file
    assert [i.answerable for i in items] == [True, True, False]

    # What the model was sent: the passage as escaped data, the target language, the rule set.
    system, user = model.sent[0]
    assert "data, not instructions" in system.content
    assert "Simplified Chinese (简体中文)" in user.content and f'doc="{first.doc_id}"' in user.content
    assert "copied EXACTLY" in user.content
    assert "Traditional Chinese" in model.sent[3][1].content and "does NOT answer" in model.sent[3][1].content


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            {"question": "成都有多少个？", "evidence": "不在文中的一句话", "answer": [["5"]]},
            "the evidence is not in the passage",
        ),
        (
            {"question": "成都有多少个？", "evidence": "到2022年", "answer": [["9999"]]},
            "answer '9999' is not in the passage",
        ),
        ({"question": "成都有多少个？", "evidence": "到2022年", "answer": []}, "no answer groups"),
        (
            {"question": "How many?", "evidence": "到2022年", "answer": [["2022"]]},
            "the question is not in zh-Hans",
        ),
        ({"evidence": "到2022年"}, "no question"),
    ],
)
def test_drafts_that_break_a_rule_are_dropped_with_the_reason(reply, reason):
    passage = SourcePassage(
        "c1",
        "004",
        "成都",
        "生活性服务业发展目标。到2022年，生活性服务业增加值达到5000亿元以上，建成具有国际影响力的消费中心城市和生活性服务业高地。",
    )
    model = FakeListChatModel(responses=[json.dumps(reply, ensure_ascii=False)] * 10)
    draft = TestsetGenerator(model, name="m").generate(
        [passage], GenerateOptions(n=1, langs=("zh-Hans",), unanswerable=0)
    )
    assert not draft.items and draft.rejected and all(reason in r for r in draft.rejected)


def test_options_are_validated():
    with pytest.raises(ValueError, match="--lang must be among"):
        GenerateOptions(langs=("fr",))
    with pytest.raises(ValueError, match="--n must be between"):
        GenerateOptions(n=0)
    with pytest.raises(ValueError, match="--unanswerable must be within"):
        GenerateOptions(unanswerable=0.9)


def test_generation_refuses_clearly_without_an_llm(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    monkeypatch.delenv("RAG_LLM_MODEL", raising=False)
    monkeypatch.setenv("RAG_GENERATOR", "extractive")
    assert main(["eval", "generate", "--collection", "sichuan", "--n", "5"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("rag: error: rag eval generate needs an LLM and none is configured")
        and "Traceback" not in err
    )
    assert not (tmp_path / "chroma").exists()  # refused before opening anything
    assert main(["eval", "--n", "5"]) == 1
    assert "--n only apply to `rag eval generate`" in capsys.readouterr().err
