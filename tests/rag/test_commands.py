"""CLI command helpers: the question from stdin, unknown documents, limits."""

from __future__ import annotations

import io

import pytest

from rag.commands import read_question
from rag.errors import UnknownDocumentError
from rag.pipeline import Assistant
from rag.settings import Settings


class FakeStdin(io.StringIO):
    def __init__(self, text: str, *, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(("given", "tty"), [("-", True), ("-", False), (None, False)])
def test_the_question_is_read_from_stdin_when_asked_or_piped(monkeypatch, given, tty):
    monkeypatch.setattr("sys.stdin", FakeStdin("  成都的绿道有多长？\n", tty=tty))
    assert read_question(given, Settings()) == "成都的绿道有多长？"


def test_no_question_at_a_terminal_is_an_error(monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin("", tty=True))
    with pytest.raises(ValueError, match="give a question, or pipe one in"):
        read_question(None, Settings())
    monkeypatch.setattr("sys.stdin", FakeStdin(" \n", tty=False))
    with pytest.raises(ValueError, match="the question is empty"):
        read_question(None, Settings())


def test_a_question_over_the_limit_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin("问" * 5000, tty=False))
    with pytest.raises(ValueError, match=r"longer than 100 characters \(max_question_chars\)") as caught:
        read_question("-", Settings(max_question_chars=100))
    assert "问问" not in str(caught.value)


def test_an_unknown_document_filter_says_so(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    assistant = Assistant(kb.settings, kb=kb)
    with pytest.raises(UnknownDocumentError, match="no such document in knowledge base '.*': nope"):
        assistant.ask("集聚区有多少个？", doc_ids={"nope"})
    known = next(d.doc_id for d in kb.documents())
    assert {p.doc_id for p in assistant.search("集聚区", doc_ids={known}).passages} == {known}
