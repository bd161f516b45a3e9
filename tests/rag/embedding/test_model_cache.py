"""Two processes that need the converted model at once: one builds it, the other waits and uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two processes load torch and build the tiny model (≈ 30 s)

ROOT = Path(__file__).resolve().parents[3]
BUILD = (
    "import logging, sys\n"
    "from pathlib import Path\n"
    "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
    "from rag.embedding.e5_convert import ensure_builtin_model\n"
    "from rag.embedding.onnx_backend import ensure_onnx_model\n"
    "folder = ensure_builtin_model(Path(sys.argv[1]), source=Path(sys.argv[2]))\n"
    "print(folder, ensure_onnx_model(folder, variant='int8'))\n"
)


def test_two_processes_building_at_once_build_once(tiny_e5, tmp_path):
    cache = tmp_path / "cache"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD, str(cache), str(tiny_e5[0])],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outputs]
    assert outputs[0][0] == outputs[1][0]  # the same folder and ONNX file
    logs = "".join(err for _, err in outputs)
    assert logs.count("converting the packaged multilingual-e5-small") == 1
    assert logs.count("exporting") == 1
    folder = Path(outputs[0][0].split()[0])
    leftovers = [p.name for p in cache.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert (folder / "modules.json").is_file() and not leftovers
