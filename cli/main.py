"""``rag``: ingest, search, ask, docs, doctor, chat, serve, api, eval. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rag.errors import RagError

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")  # no model hub here: fail fast rather than hang on the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _parser() -> argparse.ArgumentParser:
    import eval.command
    import rag.commands
    import ui.serve
    from eval.training.train import add_arguments as add_train_arguments
    from eval.training.train import run_train_command

    parser = argparse.ArgumentParser(prog="rag", description="Cited answers from your documents.")
    parser.add_argument("--config", type=Path, help="a rag.toml file (default: ./rag.toml or $RAG_CONFIG)")
    parser.add_argument("--collection", help="knowledge base (collection) name")
    sub = parser.add_subparsers(dest="command", required=True)
    rag.commands.register(sub)  # ingest, search, ask, doctor, docs, chat, api, mcp
    eval.command.register(sub)  # eval
    train = sub.add_parser("train", help="train the evidence model on public QA data")
    add_train_arguments(train)
    train.set_defaults(run=run_train_command)
    ui.serve.register(sub)  # serve
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
    from rag.settings import load_settings

    settings = load_settings(args.config)
    if args.collection:
        settings = settings.with_overrides(collection=args.collection)
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
