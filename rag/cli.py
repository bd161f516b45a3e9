"""``rag``: ingest, search, ask, docs, doctor, chat, serve, api, eval. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.errors import RagError
from rag.filters import add_filter_arguments

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")  # no model hub here: fail fast rather than hang on the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited answers from your documents.")
    parser.add_argument("--config", type=Path, help="a rag.toml file (default: ./rag.toml or $RAG_CONFIG)")
    parser.add_argument("--collection", help="knowledge base (collection) name")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="add or update documents (default: the bundled corpus)")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or directories")
    ingest.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    ingest.add_argument("--rebuild", action="store_true", help="drop the knowledge base and index again")

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

    doctor = sub.add_parser("doctor", help="check that both indexes hold exactly the chunks of the files")
    doctor.add_argument(
        "paths", nargs="*", type=Path, help="what should be indexed (default: the corpus and uploads)"
    )
    doctor.add_argument("--repair", action="store_true", help="fix what is found, then check again")
    doctor.add_argument("--json", action="store_true", help="print JSON")

    docs = sub.add_parser("docs", help="list indexed documents")
    docs.add_argument("--json", action="store_true")
    sub.add_parser("chat", help="interactive questions in the terminal")
    api = sub.add_parser("api", help="serve an OpenAI-compatible API (POST /v1/chat/completions)")
    api.add_argument("--host", help="address to listen on (default: the host setting, 127.0.0.1)")
    api.add_argument("--port", type=int, help="port (default: the api_port setting, 8001)")
    api.add_argument(
        "--api-keys-file", help="a file of API keys, one per line (or: api_keys_file, RAG_API_KEYS)"
    )
    api.add_argument("--insecure", action="store_true", help="allow a non-loopback address without API keys")
    mcp = sub.add_parser("mcp", help="serve the knowledge base to MCP clients (stdio, or HTTP on loopback)")
    mcp.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    mcp.add_argument("--host", help="with --transport http: a loopback address (default 127.0.0.1)")
    mcp.add_argument(
        "--port", type=int, help="with --transport http: port (default: the mcp_port setting, 8002)"
    )

    from eval.command import add_arguments

    add_arguments(sub.add_parser("eval", help="run an eval dataset; gate against a baseline"))

    from eval.training.train import add_arguments as add_train_arguments

    add_train_arguments(sub.add_parser("train", help="train the evidence model on public QA data"))

    from ui.serve import add_arguments as add_serve_arguments

    add_serve_arguments(sub.add_parser("serve", help="the web UI: chat, knowledge base, eval"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (RagError, ValueError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from rag.commands import run_command
    from rag.settings import load_settings

    settings = load_settings(args.config)
    if args.collection:
        settings = settings.with_overrides(collection=args.collection)
    return run_command(args, settings)


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
