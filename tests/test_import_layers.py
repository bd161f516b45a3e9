"""Layers point one way: every import of rag/, vectorstore/, eval/, ui/ and cli/ (lazy ones inside
functions included) goes down the declared order, and no two packages import each other."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def imports():
    spec = importlib.util.spec_from_file_location("tools_imports", ROOT / "tools" / "imports.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph(imports):
    return imports.build()


def test_the_walk_sees_lazy_and_relative_imports(imports, tmp_path):
    pkg = tmp_path / "rag"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .. import low\n")
    (pkg / "low.py").write_text("def f():\n    from ui.top import x\n")
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "__init__.py").write_text("")
    (tmp_path / "ui" / "top.py").write_text("import rag.low\n")
    graph = imports.build(tmp_path)
    assert {("rag.sub", "rag.low"), ("rag.low", "ui.top"), ("ui.top", "rag.low")} <= set(graph.edges)
    assert ("rag", "ui") in imports.back_edges(graph)
    assert imports.circles(set(graph.package_edges())) == [["rag", "ui"]]


def test_no_import_points_up_the_layers(imports, graph):
    found = imports.back_edges(graph)
    assert not found, "\n".join(f"{a} -> {b}: {', '.join(w)}" for (a, b), w in sorted(found.items()))


def test_no_two_packages_import_each_other(imports, graph):
    assert imports.circles(set(graph.package_edges())) == []


def test_no_module_circles(imports, graph):
    assert imports.circles(set(graph.edges)) == []


def test_vectorstore_knows_nothing_of_the_rest(graph):
    assert not [edge for edge in graph.package_edges() if edge[0] == "vectorstore"]
