"""What each CLI command does, once settings are known (kept apart from argument parsing)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from rag.cli import _print_json
from rag.extras import require_extra
from rag.filters import filter_from_args
from rag.generate.markers import strip_reference_list
from rag.index import IngestReport
from rag.pipeline import Assistant, open_knowledge_base
from rag.prompts import load_prompts
from rag.settings import Settings
from rag.types import Answer, Passage, Stage, Turn


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "ingest":
        return _ingest(args, settings)
    if args.command == "doctor":
        return _doctor(args, settings)
    if args.command == "eval":
        from eval.command import run_eval_command

        return run_eval_command(args, settings)
    if args.command == "train":
        from eval.training.train import run_train_command

        return run_train_command(args, settings)
    if args.command == "serve":
        require_extra("rag serve")
        from ui.serve import run_serve

        return run_serve(args, settings)
    if args.command == "api":
        require_extra("rag api")
        from rag.api import serve

        return serve(
            settings, host=args.host, port=args.port, insecure=args.insecure, api_keys_file=args.api_keys_file
        )
    if args.command == "mcp":
        require_extra("rag mcp")
        from rag.mcp_server import serve as serve_mcp

        # No progress bars: with stdio, stdout carries the protocol.
        quiet = settings.with_overrides(progress=False)
        return serve_mcp(quiet, transport=args.transport, host=args.host, port=args.port)
    assistant = Assistant.from_settings(settings)
    if args.command == "docs":
        return _docs(args, assistant)
    if args.command == "chat":
        return _chat(assistant)
    doc_ids = set(args.doc) if args.doc else None
    where = filter_from_args(args)
    question = read_question(args.question, settings)
    if args.command == "search":
        result = assistant.search(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where)
        if args.json:
            _print_json(
                {
                    "query": question,
                    "passages": [p.to_dict() for p in result.passages],
                    "timings": result.timings,
                }
            )
        else:
            for rank, passage in enumerate(result.passages, start=1):
                print(_passage_line(rank, passage))
        return 0
    if args.json:
        _print_json(assistant.ask(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where).to_dict())
    else:
        print_stream(assistant.ask_stream(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where))
    return 0


def read_question(given: str | None, settings: Settings) -> str:
    """The question argument, or standard input when it is ``-`` or absent and input is piped."""
    if given is None or given == "-":
        if given is None and sys.stdin.isatty():
            raise ValueError("give a question, or pipe one in (`echo QUESTION | rag ask`, or `rag ask -`)")
        given = sys.stdin.read(settings.max_question_chars + 1)
    question = given.strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > settings.max_question_chars:
        raise ValueError(
            f"the question is longer than {settings.max_question_chars} characters (max_question_chars)"
        )
    return question


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    if args.rebuild:
        drop_knowledge_base(settings)
    kb = open_knowledge_base(settings)
    kb.notify = _warn
    paths = args.paths or list(settings.corpus)
    report = kb.ingest(paths, prune=args.prune)
    print(format_report(report))
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from rag.doctor import examine, repair

    kb = open_knowledge_base(settings)
    kb.notify = _warn
    uploads = settings.data_dir / "uploads" / settings.collection
    paths = args.paths or [p for p in (*settings.corpus, uploads) if p.exists()]
    report = examine(kb, paths)
    if args.repair and not report.clean:
        report = repair(kb, report, paths)
    if args.json:
        _print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return 0 if report.clean else 1


def _warn(message: str) -> None:
    print(f"rag: {message}", file=sys.stderr, flush=True)


def drop_knowledge_base(settings: Settings) -> None:
    from rag.index import drop_collection
    from vectorstore.chroma_store import make_client

    client = make_client(
        persist_dir=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port
    )
    drop_collection(settings, client)


def format_report(report: IngestReport) -> str:
    lines = [
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)} documents; wrote {report.chunks_written} chunks, "
        f"deleted {report.chunks_deleted} ({report.seconds:.2f}s)"
    ]
    lines += [f"skipped {path}: {reason}" for path, reason in report.failed]
    return "\n".join(lines)


def _docs(args: argparse.Namespace, assistant: Assistant) -> int:
    docs = assistant.kb.documents()
    if args.json:
        _print_json([d.__dict__ for d in docs])
        return 0
    if not docs:
        print("no documents: run `rag ingest`")
    for d in docs:
        number = f" {d.doc_number}" if d.doc_number else ""
        print(f"{d.doc_id}  {d.date or '----------'}  {d.chunks:3d} chunks  {d.title}{number}")
    return 0


def _passage_line(rank: int, passage: Passage) -> str:
    text = " ".join(passage.text.split())
    head = f"{rank}. [{passage.doc_id}] {passage.title or ''}" + (
        f" > {passage.section}" if passage.section else ""
    )
    return f"{head}  (score {passage.score:.4f})\n   {text[:160]}{'…' if len(text) > 160 else ''}"


def print_stream(events: Iterator[str | Stage | Answer]) -> Answer:
    """Print the answer's pieces as they come, then (if citation checks changed it) the checked
    text, then the sources; return the Answer. Stage events are not printed."""
    streamed: list[str] = []
    for event in events:
        if isinstance(event, Stage):
            continue
        if isinstance(event, Answer):
            answer = event
            break
        streamed.append(event)
        sys.stdout.write(event)
        sys.stdout.flush()
    if answer.text.strip() != strip_reference_list("".join(streamed)):
        print(
            "\n\n" + load_prompts("verify.v2").render("revised", language=answer.language, text=answer.text)
        )
    print("\n" + format_answer(answer).removeprefix(answer.text).strip("\n") + "\n")
    sys.stdout.flush()
    return answer


def format_answer(answer: Answer) -> str:
    lines = [answer.text, ""]
    if answer.rewritten_question:
        lines.append(f"(answered as: {answer.rewritten_question})")
    for c in answer.citations:
        where = " > ".join(x for x in (c.title, c.section) if x)
        facts = "".join(f" · {x}" for x in (c.issuer, c.doc_number, c.date) if x)
        lines.append(f"[{c.n}] {c.doc_id} · {where}{facts}")
    if answer.answerability is not None:
        lines.append(f"(answerability {answer.answerability:.2f})")
    if answer.abstained:
        for rank, passage in enumerate(answer.passages[:3], start=1):
            lines.append(_passage_line(rank, passage))
    return "\n".join(lines).rstrip()


def _chat(assistant: Assistant) -> int:
    print("Ask about the documents (empty line or Ctrl-D to quit).")
    history: list[Turn] = []
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            print()
            return 0
        if not question or question in {"exit", "quit"}:
            return 0
        answer = print_stream(assistant.ask_stream(question, history=history))
        history.append(Turn(question=question, answer=answer.text))


__all__ = ["run_command", "format_answer", "format_report", "drop_knowledge_base", "Path"]
