"""Eval records for tests: real EvalItem/Passage/Citation/Answer objects run through the runner."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from eval.datasets import EvalItem
from eval.runner import EvalResult, evaluate_item
from rag.types import Answer, Citation, Passage

HOSTILE = "<script>alert('x')</script>"


def passage(doc_id: str, text: str, n: int = 0) -> Passage:
    return Passage(
        chunk_id=f"{doc_id}:{n}", doc_id=doc_id, text=text, start=0, end=len(text), score=1.0 / (n + 1)
    )


def citation(n: int, p: Passage, span: str) -> Citation:
    start = p.text.index(span)
    return Citation(
        n=n,
        chunk_id=p.chunk_id,
        doc_id=p.doc_id,
        title=None,
        date=None,
        section="",
        passage=p.text,
        span_start=start,
        span_end=start + len(span),
        doc_start=start,
        doc_end=start + len(span),
    )


def item(
    qid: str, question: str, *, lang: str = "zh-Hans", evidence=("49个",), answer=(("49",),), answerable=True
):
    return EvalItem(qid, question, lang, "doc-a", tuple(evidence), tuple(answer), answerable)


def make_results() -> list[EvalResult]:
    """Three questions: a pass (zh-Hans), a fail with hostile text (en), a correct abstention."""
    good = passage("doc-a", "四川省成功创建49个省级现代服务业集聚区。")
    bad = passage("doc-b", f"Unrelated text {HOSTILE} about parks.", 1)
    timings = {"retrieve": 0.01, "generate": 0.2, "total": 0.21}
    answered = Answer(
        "四川省创建了多少个集聚区？",
        "四川省成功创建49个省级现代服务业集聚区。 [1]",
        [citation(1, good, "四川省成功创建49个省级现代服务业集聚区。")],
        False,
        "zh-Hans",
    )
    wrong = Answer(
        f"How many clusters? {HOSTILE}",
        f"Unrelated text {HOSTILE} about parks. [1]",
        [citation(1, bad, f"Unrelated text {HOSTILE} about parks.")],
        False,
        "en",
        support=0.0,
        unverified_citations=[citation(1, bad, "about parks."), citation(2, good, "49个")],
        verification_notes=[f"sentence 1 flagged {HOSTILE}"],
    )
    abstained = Answer("上海有多少条？", "文档中没有回答这个问题。", [], True, "zh-Hans")
    return [
        evaluate_item(item("q1", "四川省创建了多少个集聚区？"), [good, bad], answered, timings),
        evaluate_item(item("q2", f"How many clusters? {HOSTILE}", lang="en"), [bad, good], wrong, timings),
        evaluate_item(item("q3", "上海有多少条？", answerable=False), [bad], abstained, timings),
    ]


@pytest.fixture
def hostile() -> str:
    return HOSTILE


@pytest.fixture
def results() -> list[EvalResult]:
    return make_results()


@pytest.fixture
def result_rows(results) -> list[dict]:
    return [asdict(r) for r in results]
