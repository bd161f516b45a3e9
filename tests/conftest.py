"""Test-wide guards and fakes: no network but loopback; a deterministic embedder."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest
from fakes import FixedStats, HashEmbedder, lexical_model  # tests/ is on sys.path (this conftest's folder)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if not _is_local(address):
            raise RuntimeError(f"test tried to open a network connection to {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that connects anywhere but loopback."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def hash_embedder_class() -> type[HashEmbedder]:
    """For fixtures wider than one test (they cannot use the function-scoped ``hash_embedder``)."""
    return HashEmbedder


CORPUS_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "corpus" / "sichuan"


@pytest.fixture
def corpus_copy(tmp_path):
    """A writable copy of the bundled corpus."""
    import shutil

    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.fixture
def make_kb(tmp_path, hash_embedder):
    """KnowledgeBase factory over an in-memory Chroma and the hash embedder."""
    import uuid

    from rag.index import KnowledgeBase
    from rag.settings import Settings
    from vectorstore.chroma_store import make_client

    client = make_client()
    collection = f"t{uuid.uuid4().hex[:12]}"

    def factory(embedder=None, **overrides):
        overrides.setdefault("collection", collection)
        settings = Settings(data_dir=tmp_path / "data", progress=False, **overrides)
        return KnowledgeBase(settings=settings, embedder=embedder or hash_embedder, client=client)

    return factory


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """One data directory for the integration tests that run the real model on the bundled
    corpus, so the model is built and the corpus ingested once per session."""
    return tmp_path_factory.mktemp("rag-data")


@pytest.fixture
def real_env(monkeypatch, data_dir):
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_PROGRESS", "false")
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    return data_dir


@pytest.fixture(scope="session")
def ingested(data_dir):
    """The bundled corpus ingested with the real embedding model into ``data_dir``."""
    from cli.main import main

    os.environ["RAG_DATA_DIR"] = str(data_dir)
    os.environ["RAG_PROGRESS"] = "false"
    assert main(["ingest"]) == 0
    return data_dir


@pytest.fixture(scope="session")
def ingested_env(tmp_path_factory) -> dict[str, str]:
    """Environment for ``rag`` subprocesses over a fresh data dir that holds one bundled document,
    ingested for real (the packaged model; its converted folder is shared when it exists)."""
    import subprocess
    import sys

    from rag.settings import load_settings

    data_dir = tmp_path_factory.mktemp("ingested") / "data"
    data_dir.mkdir()
    models = load_settings().models_dir
    if models.is_dir():
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_DATA_DIR": str(data_dir), "RAG_PROGRESS": "false", "HF_HUB_OFFLINE": "1"}
    document = CORPUS_DIR / "000_2d3ce4a55c8786ef.txt"
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(document)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture
def lexical_evidence():
    """``lexical_evidence(embedder, idf)``: the hand-written model over that embedder and IDF
    (a function, every term known, or a keyword index)."""

    def build(embedder, idf=lambda term: 1.0, **changes):
        stats = idf if hasattr(idf, "known") else FixedStats(idf)
        return lexical_model(embedder, stats, **changes)

    return build


@pytest.fixture(autouse=True, scope="session")
def _hash_vectors_get_the_lexical_evidence_model():
    """An assistant over the hash embedder gets the hand-written evidence model: the trained one's
    similarity features assume E5 vectors. Over the real embedder the trained model runs.
    (Session-wide, so that module and session fixtures building assistants get it too.)"""
    import rag.pipeline

    trained = rag.pipeline.make_evidence_model

    def make(settings, kb):
        if isinstance(kb.embedder, HashEmbedder):
            return lexical_model(kb.embedder, kb.keyword, abstain_below=settings.abstain_below)
        return trained(settings, kb)

    patch = pytest.MonkeyPatch()
    patch.setattr(rag.pipeline, "make_evidence_model", make)
    yield
    patch.undo()
