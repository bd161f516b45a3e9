"""--repeat for nondeterministic generators: each repeat is a run folder, the pooled run averages
per question, and the spread names the questions whose outcome changed."""

from __future__ import annotations

import itertools
import json

from eval.datasets import DATASETS_DIR, Dataset, load_jsonl
from eval.report import write_report
from eval.runner import write_run
from eval.runs import load_run, run_repeated
from rag.generate.extractive import ExtractiveGenerator
from rag.pipeline import Assistant
from rag.types import Answer


class FlakyGenerator:
    """The extractive generator, except that every second answer to ``flaky`` is an abstention
    (a stand-in for an LLM sampled at a temperature above 0)."""

    name = "flaky"

    def __init__(self, inner: ExtractiveGenerator, flaky: str) -> None:
        self.inner, self.flaky, self.calls = inner, flaky, itertools.count()

    def generate(self, question: str, passages) -> Answer:
        answer = self.inner.generate(question, passages)
        if question == self.flaky and next(self.calls) % 2:
            return Answer(
                question, "文档中没有回答这个问题。", [], True, answer.language, generator=self.name
            )
        return answer


def test_repeats_report_the_spread_and_pool_per_question(make_kb, corpus_copy, tmp_path):
    items = load_jsonl(DATASETS_DIR / "sichuan.jsonl")[:4]
    kb = make_kb()
    assistant = Assistant(kb.settings, kb=kb)
    first = items[0].question
    assistant.generator = FlakyGenerator(assistant.generator, first)
    dataset = Dataset("tiny", items, [corpus_copy])
    pooled, summary = run_repeated(dataset, kb.settings, repeats=3, out=tmp_path, assistant=assistant)

    assert sorted(p.name for p in tmp_path.glob("repeat-*")) == ["repeat-1", "repeat-2", "repeat-3"]
    repeat = summary["repeat"]
    runs = [json.loads((tmp_path / f"repeat-{n}" / "summary.json").read_text()) for n in (1, 2, 3)]
    abstained = [run["metrics"]["false_abstention"] for run in runs]
    assert abstained[0] == abstained[2] != abstained[1]  # the second repeat abstained once more
    spread = repeat["metrics"]["false_abstention"]
    assert spread["sd"] > 0 and (spread["min"], spread["max"]) == (min(abstained), max(abstained))
    assert pooled[0].metrics["false_abstention"] == round(1 / 3, 4)  # averaged per question
    assert repeat["unstable"] == {items[0].id: [True, False, True]}  # passes unless it abstains
    assert pooled[0].passed  # two of three repeats passed
    assert summary["metrics"]["n"] == 4 and "intervals" in summary

    write_run(tmp_path, pooled, summary)
    page = write_report(tmp_path).read_text(encoding="utf-8")
    assert "Spread over 3 repeats" in page
    assert load_run(tmp_path).questions[items[0].id]["false_abstention"] == round(1 / 3, 4)
