"""The ``rag`` subcommands of the library itself (ingest, search, ask, doctor, docs, delete, chat,
api, mcp): their arguments and what each does once settings are known. The composition root
(``cli/``) builds the parser and dispatches; eval/ and ui/ register their own subcommands the same
way. Registering imports nothing heavy: the pipeline, Chroma and the embedder are imported by the
commands that use them, and ``docs``/``delete`` never load the embedding model (lazy embedder)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rag.extras import require_extra
from rag.filters import add_filter_arguments, filter_from_args
from rag.settings import Settings
from rag.types import Answer, Passage, Stage, Turn

if TYPE_CHECKING:
    from rag.pipeline import Assistant


def _assistant(settings: Settings) -> Assistant:
    from rag.pipeline import Assistant

    return Assistant.from_settings(settings)


def _knowledge_base(settings: Settings):  # -> rag.index.KnowledgeBase
    from rag.index import open_knowledge_base  # not rag.pipeline: LangChain and the generators stay out

    return open_knowledge_base(settings)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the library's subcommands; each sets ``run(args, settings) -> exit status``."""
    ingest = sub.add_parser("ingest", help="add or update documents (default: the bundled corpus)")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or directories")
    ingest.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    ingest.add_argument("--rebuild", action="store_true", help="drop the knowledge base and index again")
    ingest.set_defaults(run=_ingest)

    for name, text in (
        ("search", "show the passages retrieved for a query"),
        ("ask", "answer with citations"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("question", nargs="?", help="the question; '-' or none: read it from stdin")
        command.add_argument("--k", type=int, help="passages to retrieve")
        command.add_argument("--mode", choices=("hybrid", "dense", "keyword"))
        command.add_argument("--doc", action="append", help="only these document ids (repeatable)")
        add_filter_arguments(command)  # --where, --since, --until (rag/filters.py)
        command.add_argument("--json", action="store_true", help="print JSON")
        command.set_defaults(run=_search if name == "search" else _ask)

    doctor = sub.add_parser("doctor", help="check that both indexes hold exactly the chunks of the files")
    doctor.add_argument(
        "paths", nargs="*", type=Path, help="what should be indexed (default: the corpus and uploads)"
    )
    doctor.add_argument("--repair", action="store_true", help="fix what is found, then check again")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.set_defaults(run=_doctor)

    docs = sub.add_parser("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(run=_docs)
    delete = sub.add_parser("delete", help="remove documents from the knowledge base")
    delete.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="document ids (`rag docs` lists them)")
    delete.set_defaults(run=_delete)
    sub.add_parser("chat", help="interactive questions in the terminal").set_defaults(run=_chat)
    _register_servers(sub)


def _register_servers(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="serve an OpenAI-compatible API (POST /v1/chat/completions)")
    api.add_argument("--host", help="address to listen on (default: the host setting, 127.0.0.1)")
    api.add_argument("--port", type=int, help="port (default: the api_port setting, 8001)")
    api.add_argument(
        "--api-keys-file", help="a file of API keys, one per line (or: api_keys_file, RAG_API_KEYS)"
    )
    api.add_argument("--insecure", action="store_true", help="allow a non-loopback address without API keys")
    api.set_defaults(run=_api)
    mcp = sub.add_parser("mcp", help="serve the knowledge base to MCP clients (stdio, or HTTP on loopback)")
    mcp.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    mcp.add_argument("--host", help="with --transport http: a loopback address (default 127.0.0.1)")
    mcp.add_argument(
        "--port", type=int, help="with --transport http: port (default: the mcp_port setting, 8002)"
    )
    mcp.set_defaults(run=_mcp)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    require_extra("rag api")
    from rag.api import serve

    return serve(
        settings, host=args.host, port=args.port, insecure=args.insecure, api_keys_file=args.api_keys_file
    )


def _mcp(args: argparse.Namespace, settings: Settings) -> int:
    require_extra("rag mcp")
    from rag.mcp_server import serve as serve_mcp

    # No progress bars: with stdio, stdout carries the protocol.
    quiet = settings.with_overrides(progress=False)
    return serve_mcp(quiet, transport=args.transport, host=args.host, port=args.port)


def _docs(args: argparse.Namespace, settings: Settings) -> int:
    docs = _knowledge_base(settings).documents()
    if args.json:
        print_json([d.__dict__ for d in docs])
        return 0
    if not docs:
        print("no documents: run `rag ingest`")
    for d in docs:
        number = f" {d.doc_number}" if d.doc_number else ""
        print(f"{d.doc_id}  {d.date or '----------'}  {d.chunks:3d} chunks  {d.title}{number}")
    return 0


def _delete(args: argparse.Namespace, settings: Settings) -> int:
    from rag.errors import UnknownDocumentError

    kb = _knowledge_base(settings)
    kb.notify = _warn
    unknown = kb.unknown_documents(args.doc_ids)
    if unknown:
        raise UnknownDocumentError(
            f"no such document in knowledge base '{settings.collection}': {', '.join(unknown)}"
            " (`rag docs` lists them)"
        )
    removed = kb.remove_documents(args.doc_ids)
    print(f"removed {len(set(args.doc_ids))} document(s), {removed} chunk(s)")
    return 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _assistant(settings)
    doc_ids = set(args.doc) if args.doc else None
    where = filter_from_args(args)
    question = read_question(args.question, settings)
    result = assistant.search(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where)
    if args.json:
        print_json(
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


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _assistant(settings)
    doc_ids = set(args.doc) if args.doc else None
    where = filter_from_args(args)
    question = read_question(args.question, settings)
    if args.json:
        print_json(assistant.ask(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where).to_dict())
    else:
        print_stream(assistant.ask_stream(question, k=args.k, mode=args.mode, doc_ids=doc_ids, where=where))
    return 0


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


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
        from rag.index import drop_collection

        drop_collection(settings)
    kb = _knowledge_base(settings)
    kb.notify = _warn
    paths = args.paths or list(settings.corpus)
    report = kb.ingest(paths, prune=args.prune)
    print(report.summary())
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from rag.doctor import examine, repair

    kb = _knowledge_base(settings)
    kb.notify = _warn
    uploads = settings.data_dir / "uploads" / settings.collection
    paths = args.paths or [p for p in (*settings.corpus, uploads) if p.exists()]
    report = examine(kb, paths)
    if args.repair and not report.clean:
        report = repair(kb, report, paths)
    if args.json:
        print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return 0 if report.clean else 1


def _warn(message: str) -> None:
    print(f"rag: {message}", file=sys.stderr, flush=True)


def _passage_line(rank: int, passage: Passage) -> str:
    text = " ".join(passage.text.split())
    head = f"{rank}. [{passage.doc_id}] {passage.title or ''}" + (
        f" > {passage.section}" if passage.section else ""
    )
    return f"{head}  (score {passage.score:.4f})\n   {text[:160]}{'…' if len(text) > 160 else ''}"


def print_stream(events: Iterator[str | Stage | Answer]) -> Answer:
    """Print the answer's pieces as they come, then (if citation checks changed it) the checked
    text, then the sources; return the Answer. Stage events are not printed."""
    from rag.generate.markers import strip_reference_list
    from rag.prompts import load_prompts

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


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _assistant(settings)
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
