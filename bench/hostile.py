"""How long the worst files of the hostile corpus take through the real `rag ingest` (packaged
model, on-disk Chroma): the 20 MB line and the 200 MB docx bomb (refused), the 6,000-chunk file
(stored, in batches under Chroma's limit). Each next to a good file, to show the rest is stored.

    .venv/bin/python bench/hostile.py      # writes bench/results/hostile.json
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hostile"))

from make_corpus import _docx_bomb  # noqa: E402

from bench._common import machine_info, now_iso, write_json  # noqa: E402
from rag.settings import BUNDLED_CORPUS, PROJECT_ROOT, Settings  # noqa: E402

MB = 1024 * 1024


def main() -> int:
    work = PROJECT_ROOT / ".rag" / "bench" / "hostile"
    shutil.rmtree(work, ignore_errors=True)
    (work / "data" / "models").mkdir(parents=True)
    for folder in Settings().models_dir.glob("*"):
        if (folder / "modules.json").is_file():
            (work / "data" / "models" / folder.name).symlink_to(folder, target_is_directory=True)
    env = {**os.environ, "RAG_DATA_DIR": str(work / "data"), "RAG_PROGRESS": "false"}
    env.pop("RAG_CONFIG", None)
    good = next(BUNDLED_CORPUS.glob("002_*.txt"))
    cases = {}
    for name, make in (
        (
            "long-line.txt",
            lambda p: p.write_text("四川省推进服务业高质量发展，" * (20 * MB // 42), encoding="utf-8"),
        ),
        ("bomb.docx", lambda p: _docx_bomb(p, 200 * MB)),
        (
            "records.txt",
            lambda p: p.write_text(
                "\n\n".join(f"{i}.记录{i}\n\n第{i}号记录：服务业项目编号{i}。" for i in range(6000)),
                encoding="utf-8",
            ),
        ),
    ):
        folder = work / name.split(".")[0]
        folder.mkdir()
        make(folder / name)
        shutil.copy(good, folder)
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "rag",
                "--collection",
                f"hostile-{folder.name}",
                "ingest",
                str(folder),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        cases[name] = {
            "bytes": (folder / name).stat().st_size,
            "seconds_including_model_load": round(time.perf_counter() - started, 1),
            "returncode": result.returncode,
            "report": result.stdout.strip().splitlines(),
        }
        print(name, json.dumps(cases[name], ensure_ascii=False))
    write_json(
        PROJECT_ROOT / "bench" / "results" / "hostile.json",
        {"benchmark": "hostile", "date": now_iso(), "machine": machine_info(), "cases": cases},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
