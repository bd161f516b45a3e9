import json
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from eval.datasets import DATASETS_DIR, Dataset, load_jsonl
from eval.judge import FaithfulnessJudge
from eval.runner import METRIC_KEYS, eval_collection, run_dataset
from rag.pipeline import Assistant
from rag.settings import Settings


class AgreeingJudge(BaseChatModel):
    """A fake judge model that finds every sentence supported (as many verdicts as asked for)."""

    @property
    def _llm_type(self) -> str:
        return "agreeing-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        count = int(re.search(r"JSON list of (\d+) booleans", messages[-1].content).group(1))
        reply = AIMessage(content=json.dumps([True] * count))
        return ChatResult(generations=[ChatGeneration(message=reply)])


def test_unverified_precision_and_support_come_from_the_answer(results):
    english = results[1]
    assert english.metrics["citation_precision"] == 0.0
    assert english.metrics["citation_precision_unverified"] == 0.5
    assert english.metrics["support"] == 0.0 and english.support == 0.0
    assert [(c["doc_id"], c["relevant"]) for c in english.unverified_citations] == [
        ("doc-b", False),
        ("doc-a", True),
    ]
    assert "citation_precision_unverified" not in results[0].metrics  # verification did not run
    assert {"citation_precision_unverified", "support", "faithfulness"} <= set(METRIC_KEYS)


def test_citation_rows_carry_document_offsets(results):
    row = results[0].citations[0]
    assert (row["doc_id"], row["doc_start"], row["doc_end"], row["relevant"]) == ("doc-a", 0, 21, True)


def test_each_chunking_gets_its_own_eval_collection():
    assert eval_collection("sichuan", Settings()) == "eval-sichuan"
    assert eval_collection("sichuan", Settings(chunk_size=200)) == "eval-sichuan-c200"
    assert eval_collection("My Set", Settings(chunk_size=200, chunk_overlap=0)) == "eval-my-set-c200-o0"


def test_run_dataset_scores_and_judges_every_question(make_kb, corpus_copy):
    items = load_jsonl(DATASETS_DIR / "sichuan.jsonl")
    dataset = Dataset("tiny", [items[0], items[8], items[60]], [corpus_copy])
    kb = make_kb()
    assistant = Assistant(kb.settings, kb=kb)
    judge = FaithfulnessJudge(AgreeingJudge(), name="agreeing")
    results, summary = run_dataset(dataset, kb.settings, assistant=assistant, judge=judge)
    assert [r.id for r in results] == ["sc-001", "sc-009", "sc-061"]
    answered = [r for r in results if not r.abstained]
    assert answered and all(r.metrics["faithfulness"] == 1.0 and r.judged for r in answered)
    assert summary["faithfulness"] == 1.0 and summary["run"]["versions"]["judge"] == "agreeing"
    assert summary["metrics"]["n"] == 3 and set(summary["passed"]) == {"sc-001", "sc-009", "sc-061"}


def test_an_items_filter_is_applied_to_its_retrieval(make_kb, corpus_copy):
    from dataclasses import replace

    item = load_jsonl(DATASETS_DIR / "sichuan.jsonl")[0]  # about document 000 (a 通报)
    filtered = replace(item, id="sc-001-news", filter="type=新闻")
    kb = make_kb()
    assistant = Assistant(kb.settings, kb=kb)
    results, _ = run_dataset(
        Dataset("tiny", [item, filtered], [corpus_copy]), kb.settings, assistant=assistant
    )
    plain, news = results
    assert any(r["doc_id"] == item.doc for r in plain.retrieved)
    assert news.retrieved and all(r["doc_id"][:3] in {"001", "002", "003"} for r in news.retrieved)
