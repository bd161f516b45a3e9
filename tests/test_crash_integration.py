"""Crash test: `rag ingest --prune` SIGKILLed at random points (six seeds: while embedding, inside
and between the writes, deletes and stamps of a file's update), then run again: `rag doctor` is
clean and every answer is the one an uninterrupted ingest gives. Real CLI, packaged model,
on-disk Chroma. The kill trigger is the only thing added to the child process: on the n-th call
of the chosen step it SIGKILLs itself, before the call or a few milliseconds into it."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from rag.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CORPUS = PROJECT_ROOT / "data" / "corpus" / "sichuan"
QUESTIONS = [
    "武侯區產業園區高質量發展大會是哪天召開的？",
    "推动成渝地区双城经济圈建设要加强什么？",
    "眉山市服务业的新目标是什么？",
]
KILLER = """
import os, random, signal, sys, threading, time
step, nth, inside = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "inside"
import vectorstore.chroma_store as store
store.max_batch_size = lambda client: 2  # several writes per file, so kills land between them
from rag.embedding import factory

def die(real):
    calls = {"n": 0}
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth:
            if inside:
                delay = random.Random(nth).uniform(0, 0.02)
                threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapper

if step == "embed":
    made = factory.create_embedder
    def create(settings):
        embedder = made(settings)
        embedder.embed_passages = die(embedder.embed_passages)
        return embedder
    factory.create_embedder = create
    import rag.embedding
    rag.embedding.create_embedder = create
else:  # upserts: each batch (files committed together are written in one upsert call)
    name = "_upsert_batch" if step == "upsert" else step
    setattr(store.ChromaStore, name, die(getattr(store.ChromaStore, name)))
from cli.main import main
sys.exit(main(["ingest", "--prune", sys.argv[4]]))
"""
ANSWERS = """
import json, sys
from cli.main import main
assert main(["ingest", "--prune", sys.argv[1]]) == 0
doctor = main(["doctor", sys.argv[1]])
from rag.pipeline import Assistant
from rag.settings import load_settings
assistant = Assistant.from_settings(load_settings())
answers = []
for question in json.loads(sys.argv[2]):
    a = assistant.ask(question)
    answers.append({"text": a.text, "citations": [c.chunk_id for c in a.citations], "passages": [p.chunk_id for p in a.passages]})
print("ANSWERS " + json.dumps({"doctor": doctor, "answers": answers}, ensure_ascii=False))
"""


def run(code: str, *args: str, data_dir, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data_dir),
        "RAG_PROGRESS": "false",
        "RAG_EMBEDDING_BATCH_SIZE": "4",
    }
    env.pop("RAG_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def answers_of(result: subprocess.CompletedProcess) -> dict:
    line = next(line for line in result.stdout.splitlines() if line.startswith("ANSWERS "))
    return json.loads(line.removeprefix("ANSWERS "))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """A data folder holding version 1 of a small corpus, and the version 2 folder to ingest."""
    root = tmp_path_factory.mktemp("crash")
    docs = root / "docs"
    docs.mkdir()
    for prefix in ("001", "002", "003"):
        shutil.copy(next(CORPUS.glob(f"{prefix}_*.txt")), docs)
    base = root / "base"
    (base / "models").mkdir(parents=True)
    cached = Settings().models_dir  # reuse the project's converted builtin model
    if cached.is_dir():
        for folder in cached.iterdir():
            if (folder / "modules.json").is_file():
                (base / "models" / folder.name).symlink_to(folder, target_is_directory=True)
    run(
        "from cli.main import main; import sys; sys.exit(main(['ingest', sys.argv[1]]))",
        str(docs),
        data_dir=base,
    )
    # version 2: one file changed near its end (its first chunks are kept), one added, one removed
    changed = next(docs.glob("003_*.txt"))
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            "更好推动高水平区域协调发展", "更好推动高质量区域协调发展"
        ),
        encoding="utf-8",
    )
    sectors = ("现代物流", "文化旅游", "健康养老", "数字经济", "金融服务", "科技服务", "商贸流通", "家政服务")
    (docs / "005_meishan.txt").write_text(
        "眉山市服务业发展新目标\n\n眉山市提出，到2026年服务业增加值突破1000亿元，建成5个省级服务业集聚区。\n\n"
        + "\n\n".join(
            f"{i}.{name}\n\n眉山市将推动{name}提质增效，培育{name}龙头企业{i + 2}家，建设{name}示范项目{i * 3 + 1}个，"
            f"到2026年{name}营业收入年均增长{i + 8}%，形成{name}与制造业深度融合的发展格局。"
            for i, name in enumerate(sectors, start=1)
        ),
        encoding="utf-8",
    )  # about ten chunks: several embedding calls and writes
    next(docs.glob("001_*.txt")).unlink()
    reference = root / "reference"
    shutil.copytree(base, reference, symlinks=True)
    expected = answers_of(run(ANSWERS, str(docs), json.dumps(QUESTIONS), data_dir=reference))
    assert expected["doctor"] == 0
    return root, base, docs, expected


# (step, n-th call, inside the call?) per seed: embedding, and each write step of an update
PLANS = ["embed", "upsert", "delete", "update_metadata", "upsert", "embed"]


@pytest.mark.parametrize("seed", range(len(PLANS)))
def test_a_killed_ingest_is_completed_by_the_next_run(scenario, seed):
    root, base, docs, expected = scenario
    rng = random.Random(seed)
    step = PLANS[seed]
    nth = rng.randint(1, {"embed": 3, "upsert": 4, "delete": 3, "update_metadata": 1}[step])
    inside = rng.random() < 0.5 and step != "embed"
    data = root / f"seed{seed}"
    shutil.copytree(base, data, symlinks=True)
    killed = run(
        KILLER, step, str(nth), "inside" if inside else "before", str(docs), data_dir=data, check=False
    )
    assert killed.returncode == -signal.SIGKILL, (step, nth, killed.returncode, killed.stderr[-2000:])
    after = answers_of(run(ANSWERS, str(docs), json.dumps(QUESTIONS), data_dir=data))
    assert after["doctor"] == 0, f"doctor not clean after a kill at {step} #{nth}"
    # The answer (text and citations) must be identical. The order of the uncited passages may
    # not be: the resumed run built the HNSW graph in another order, and approximate search over
    # it can swap two near-equal neighbours (seen once: passages 3 and 4 swapped, same set).
    for got, want in zip(after["answers"], expected["answers"], strict=True):
        assert (got["text"], got["citations"]) == (want["text"], want["citations"]), f"kill at {step} #{nth}"
        assert sorted(got["passages"]) == sorted(want["passages"]), f"kill at {step} #{nth}"
