import http.server
import json
import re
import threading

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from eval.judge import Claim, FaithfulnessJudge, judge_from_settings, parse_verdicts, split_claims
from eval.runner import FAITHFULNESS_NOTE, summarize
from rag.settings import Settings
from rag.types import Answer, Citation


def cite(n: int, passage: str) -> Citation:
    return Citation(n, f"c{n}", f"doc-{n}", None, None, "", passage, 0, len(passage), 0, len(passage))


ANSWER = Answer(
    "四川创建了多少个集聚区？",
    "四川省成功创建49个省级现代服务业集聚区。 [1] 其中10个获得通报表扬。 [2]",
    [
        cite(1, "四川省成功创建49个省级现代服务业集聚区。"),
        cite(2, "对10个省级现代服务业集聚区予以通报表扬。"),
    ],
    False,
    "zh-Hans",
)


def test_claims_keep_the_markers_that_follow_each_sentence():
    assert split_claims(ANSWER.text) == [
        Claim("四川省成功创建49个省级现代服务业集聚区。", (1,)),
        Claim("其中10个获得通报表扬。", (2,)),
    ]
    assert split_claims("Growth was 3.5% in 2020 [1], [2]. Then it fell.") == [
        Claim("Growth was 3.5% in 2020.", (1, 2)),
        Claim("Then it fell.", ()),
    ]
    assert split_claims("Notification of the Office [1] In a bid to help, it decided. [2]") == [
        Claim("Notification of the Office", (1,)),
        Claim("In a bid to help, it decided.", (2,)),
    ]
    assert split_claims("") == []


def test_claims_use_the_verifiers_sentences_and_marker_syntax():
    assert split_claims("成都的GDP为2万亿元［1］，增长5%【2, 3】。") == [
        Claim("成都的GDP为2万亿元，", (1,)),
        Claim("增长5%。", (2, 3)),
    ]
    assert split_claims("[1] 开头的标记。") == [Claim("开头的标记。", (1,))]
    # a semicolon or a line break without a marker does not end a claim; a bracketed year is text
    assert split_claims("The sources are in Chinese; they say: 某某。 [1]") == [
        Claim("The sources are in Chinese; they say: 某某。", (1,))
    ]
    assert split_claims("要点：\n- 第一 [1]\n- 第二 [2]") == [
        Claim("要点：\n- 第一", (1,)),
        Claim("- 第二", (2,)),
    ]
    assert split_claims("CBH [2020] No. 31 says so [1].") == [Claim("CBH [2020] No. 31 says so.", (1,))]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("[true, false]", [True, False]),
        ("```json\n[True, False]\n```", [True, False]),
        ('Verdicts: ["supported", "not supported"]', [True, False]),
        ("1. Supported\n2. Not supported", [True, False]),
        ("Sentence 1 cites [1]: yes\nSentence 2: no", [True, False]),
        ("[true]", None),  # one verdict for two sentences
        ("I cannot tell.", None),
    ],
)
def test_verdicts_are_parsed_from_json_or_lines(reply, expected):
    assert parse_verdicts(reply, 2) == expected


def test_parse_verdicts_rejects_a_non_positive_count():
    with pytest.raises(ValueError, match="got 0"):
        parse_verdicts("[]", 0)


def test_faithfulness_is_the_share_of_supported_sentences():
    judge = FaithfulnessJudge(FakeListChatModel(responses=["[true, false]"]), name="fake")
    judgement = judge.judge(ANSWER)
    assert judgement.supported == [True, False] and judgement.score == 0.5
    assert judgement.to_dicts()[1] == {
        "sentence": "其中10个获得通报表扬。",
        "sources": [2],
        "supported": False,
    }


def test_the_prompt_pairs_each_sentence_with_its_cited_passage():
    judge = FaithfulnessJudge(FakeListChatModel(responses=["[]"]))
    claims = split_claims(ANSWER.text + " 另有无出处的说法。")
    (role, system), (_, user) = judge.messages(ANSWER.question, claims, ANSWER.citations)
    assert role == "system" and "SUPPORTED" in system
    assert "[1] (doc-1) 四川省成功创建49个" in user and "[2] (doc-2) 对10个" in user
    assert "1. 四川省成功创建49个省级现代服务业集聚区。\n   check against: [1]" in user
    assert "3. 另有无出处的说法。\n   check against: [1], [2] (the sentence cites no source)" in user
    assert "JSON list of 3 booleans" in user


def test_an_unreadable_reply_or_a_failing_model_gives_no_score():
    unreadable = FaithfulnessJudge(GenericFakeChatModel(messages=iter([AIMessage(content="hmm")]))).judge(
        ANSWER
    )
    assert unreadable.score is None and unreadable.error == "unreadable reply"
    failing = FaithfulnessJudge(GenericFakeChatModel(messages=iter([]))).judge(ANSWER)
    assert failing.score is None and failing.error.startswith("StopIteration")


def test_abstentions_and_uncited_answers_are_not_judged():
    judge = FaithfulnessJudge(FakeListChatModel(responses=["[true]"]))
    assert judge.judge(Answer("q", "文档中没有。", [], True, "zh-Hans")) is None
    assert judge.judge(Answer("q", "Something.", [], False, "en")) is None


def test_no_judge_model_means_no_judge_and_an_honest_note(results):
    assert judge_from_settings(Settings()) is None
    assert summarize(results)["faithfulness"] == FAITHFULNESS_NOTE
    assert summarize(results)["metrics"]["faithfulness"] is None


def test_a_configured_judge_uses_an_openai_compatible_client_without_calling_it():
    judge = judge_from_settings(
        Settings(
            judge_model="qwen2.5:7b", judge_base_url="http://127.0.0.1:9/v1", judge_api_key_env="NO_SUCH_KEY"
        )
    )
    assert judge.name == "qwen2.5:7b"
    assert judge.model.model_name == "qwen2.5:7b" and judge.model.temperature == 0
    assert str(judge.model.openai_api_base) == "http://127.0.0.1:9/v1" and judge.model.max_retries == 2


def test_summary_reports_the_judged_mean_or_why_there_is_none(results):
    results[0].metrics["faithfulness"] = 1.0
    results[1].metrics["faithfulness"] = 0.5
    summary = summarize(results, judge="fake")
    assert summary["faithfulness"] == 0.75 and summary["by_lang"]["en"]["faithfulness"] == 0.5
    for r in results:
        r.metrics.pop("faithfulness", None)
    assert summarize(results, judge="fake")["faithfulness"].startswith(
        "not measured: no answer had sentences"
    )
    results[1].judge_error = "APITimeoutError: timed out"
    assert "APITimeoutError" in summarize(results, judge="fake")["faithfulness"]


@pytest.fixture
def openai_compatible_server():
    """A loopback server speaking the chat-completions protocol: every sentence is supported."""
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            count = int(re.search(r"JSON list of (\d+) booleans", body["messages"][-1]["content"]).group(1))
            reply = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": json.dumps([True] * count)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1", seen
    server.shutdown()


def test_the_configured_judge_talks_to_an_openai_compatible_server(openai_compatible_server, monkeypatch):
    url, seen = openai_compatible_server
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    judge = judge_from_settings(
        Settings(judge_model="judge-m", judge_base_url=url, judge_api_key_env="NO_SUCH_KEY")
    )
    judgement = judge.judge(ANSWER)
    assert judgement.supported == [True, True] and judgement.score == 1.0
    (request,) = seen
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer not-needed"
    assert request["body"]["model"] == "judge-m" and request["body"]["temperature"] == 0
    assert "四川省成功创建49个" in request["body"]["messages"][-1]["content"]
