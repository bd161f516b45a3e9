"""The project's import graph, read from the source with ``ast`` (lazy imports inside functions too).

    python tools/imports.py             # package edges, back-edges, circles, long modules and functions
    python tools/imports.py --modules   # also every module-to-module edge

Layers, lowest first (``LAYERS``): a package may import only from its own layer or one below,
and no two packages may import each other. ``tests/test_import_layers.py`` runs ``check`` and
fails on any back-edge or circle.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vectorstore", "rag", "ui", "eval", "cli")

# Declared order, lowest first (packages on one line may not import each other). ``rag.api`` and ``rag.mcp_server`` are entry points but stay
# inside rag/ (they import only rag); ``rag.__main__`` is `python -m rag`, a two-line shim that
# hands over to the composition root, so it counts as part of ``cli``.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vectorstore",),
    ("rag",),
    ("eval",),
    ("ui",),  # the UI's eval tab runs eval/
    ("cli",),
)
PLACED = {"rag.__main__": "cli"}  # module -> the package it belongs to for the layer rules
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))

    def package_of(self, module: str) -> str:
        return PLACED.get(module, module.split(".")[0])

    def package_edges(self) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (src, dst), where in self.edges.items():
            a, b = self.package_of(src), self.package_of(dst)
            if a != b:
                out[(a, b)] += [f"{src} -> {dst} (line {line})" for line in where]
        return out


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def build(root: Path = ROOT) -> Graph:
    graph = Graph()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else ():
            graph.modules[module_name(path, root)] = path
    for name, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            for target in _targets(node, name, is_package, graph.modules):
                if target != name:
                    lines = graph.edges[(name, target)]
                    if str(node.lineno) not in lines:
                        lines.append(str(node.lineno))
    return graph


def _targets(node: ast.AST, module: str, is_package: bool, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node, module, is_package)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    else:
        return []
    return [found for n in names if (found := _known_prefix(n, known))]


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def _known_prefix(name: str, known: dict[str, Path]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def back_edges(graph: Graph) -> dict[tuple[str, str], list[str]]:
    """Package edges that point up the declared order."""
    return {(a, b): where for (a, b), where in graph.package_edges().items() if layer_of(b) > layer_of(a)}


def circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(edges):
        succ[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted({x for edge in edges for x in edge}):
        if v not in index:
            visit(v)
    return sorted(out)


def long_modules(graph: Graph, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    counts = [(name, len(p.read_text(encoding="utf-8").splitlines())) for name, p in graph.modules.items()]
    return sorted(((n, c) for n, c in counts if c > limit), key=lambda x: -x[1])


def long_functions(graph: Graph, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """Functions (and methods) longer than ``limit`` lines, decorators and docstrings included."""
    found = []
    for name, path in graph.modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - start + 1 > limit:
                    found.append((f"{name}:{node.lineno} {node.name}", node.end_lineno - start + 1))
    return sorted(found, key=lambda x: -x[1])


def report(graph: Graph, *, modules: bool = False) -> str:
    total = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in graph.modules.values())
    lines = [
        f"{len(graph.modules)} modules ({total} lines), {len(graph.edges)} module edges",
        "",
        "package edges:",
    ]
    package_edges = graph.package_edges()
    for (a, b), where in sorted(package_edges.items()):
        lines.append(f"  {a} -> {b}  ({len(where)} import lines)")
    lines += ["", "back-edges (against " + " < ".join("/".join(layer) for layer in LAYERS) + "):"]
    for (a, b), where in sorted(back_edges(graph).items()):
        lines.append(f"  {a} -> {b}")
        lines += [f"      {w}" for w in where]
    lines += ["", "package circles:"]
    lines += [f"  {' <-> '.join(c)}" for c in circles(set(package_edges))] or ["  none"]
    lines += ["", "module circles:"]
    lines += [f"  {' <-> '.join(c)}" for c in circles(set(graph.edges))] or ["  none"]
    lines += ["", f"modules over {MAX_LINES} lines:"]
    lines += [f"  {n}: {c}" for n, c in long_modules(graph)] or ["  none"]
    lines += ["", f"functions over {MAX_FUNCTION_LINES} lines:"]
    lines += [f"  {n}: {c}" for n, c in long_functions(graph)] or ["  none"]
    if modules:
        lines += ["", "module edges:"]
        lines += [f"  {a} -> {b}" for a, b in sorted(graph.edges)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", action="store_true", help="also list every module edge")
    args = parser.parse_args(argv)
    graph = build()
    print(report(graph, modules=args.modules))
    return 1 if back_edges(graph) or circles(set(graph.package_edges())) else 0


if __name__ == "__main__":
    sys.exit(main())
