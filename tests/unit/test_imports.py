"""No import circles in the ``streams`` package, type-only imports included.

The graph is built from the source with :mod:`ast`: every ``import`` and ``from ... import``
anywhere in a module (at the top, under ``if TYPE_CHECKING:``, inside functions). An import
of ``streams.x.y`` is an edge to ``streams.x`` too (Python runs the package first), except from
a module inside ``streams.x``: a package that re-exports its own module is not a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import streams

ROOT = Path(streams.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def with_packages(name: str, modules: dict[str, Path]) -> set[str]:
    """``name`` and the packages above it that are part of the project."""
    parts = name.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & modules.keys()


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules importing ``name`` runs, directly."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= with_packages(alias.name, modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= with_packages(target, modules)
            for alias in node.names:  # ``from streams.app import views``: a module itself
                found |= {f"{target}.{alias.name}"} & modules.keys()
    # the packages Python runs before the module itself are not an import of the module
    return found - with_packages(name, modules)


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it (the first repeated at the end)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_circle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_finder_names_a_circle() -> None:
    """The finder itself: a circle is found and named; an import inside a function is an
    edge of the package's graph."""
    graph = import_graph()
    assert "streams.app.factory" in graph["streams.cli.main"]  # imported inside a function
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import streams.ids\n", True),
        ("def f() -> None:\n    from streams import ids\n", True),
        ("from . import ids\n", True),
        ("import os\n", False),
    ],
)
def test_every_kind_of_import_is_an_edge(tmp_path: Path, source: str, expected: bool) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    modules = package_modules()
    found = imports_of("streams.probe", path, modules)
    assert ("streams.ids" in found) is expected
