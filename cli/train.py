"""``rag train``: registered here so that the evidence model's training code (eval/training/,
which imports the embedder and the pipeline) is imported only when the command runs."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from eval.training.train import add_arguments

    train = sub.add_parser("train", help="train the evidence model on public QA data")
    add_arguments(train)
    train.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings) -> int:
    from eval.training.train import run_train_command

    return run_train_command(args, settings)
