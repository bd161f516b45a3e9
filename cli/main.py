"""``rag``: ingest, search, ask, docs, doctor, chat, serve, api, eval. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from rag.errors import RagError

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")  # no model hub here: fail fast rather than hang on the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


# Who registers which subcommands, with their one-line help for ``rag --help``. Only the module
# of the command being run is imported (the others would pull in chromadb, LangChain, Gradio …);
# tests/test_cli_lazy.py checks that these lines match what the modules register.
COMMANDS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "rag.commands",
        {
            "ingest": "add or update documents (default: the bundled corpus)",
            "search": "show the passages retrieved for a query",
            "ask": "answer with citations",
            "doctor": "check that both indexes hold exactly the chunks of the files",
            "docs": "list indexed documents",
            "delete": "remove documents from the knowledge base",
            "chat": "interactive questions in the terminal",
            "api": "serve an OpenAI-compatible API (POST /v1/chat/completions)",
            "mcp": "serve the knowledge base to MCP clients (stdio, or HTTP on loopback)",
        },
    ),
    ("eval.command", {"eval": "run an eval dataset; gate against a baseline"}),
    ("cli.train", {"train": "train the evidence model on public QA data"}),
    ("ui.serve", {"serve": "the web UI: chat, knowledge base, eval"}),
)


def _parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``rag`` parser. With ``argv``, only the module of the command it names is imported
    (the other subcommands get their help line only); without, every module registers."""
    parser = argparse.ArgumentParser(prog="rag", description="Cited answers from your documents.")
    parser.add_argument("--config", type=Path, help="a rag.toml file (default: ./rag.toml or $RAG_CONFIG)")
    parser.add_argument("--collection", help="knowledge base (collection) name")
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = None if argv is None else _command_of(argv)
    for module, helps in COMMANDS:
        if argv is None or wanted in helps:
            importlib.import_module(module).register(sub)
        else:
            for name, text in helps.items():
                sub.add_parser(name, help=text, add_help=False)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names (the first word after the top-level options), if any."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("--collection")
    pre.add_argument("command", nargs="?")
    known, _ = pre.parse_known_args(argv)
    return known.command


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(argv).parse_args(argv)
    try:
        return _run(args)
    except (RagError, ValueError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from rag.settings import load_settings

    settings = load_settings(args.config)
    if args.collection:
        settings = settings.with_overrides(collection=args.collection)
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
