"""The package's shape: its public names, and an import graph with no cycles and no arrow from the
store up to the layers that use it (``search.store`` is read by retrieval and indexing, never the
reverse)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import search

PACKAGE = Path(search.__file__).parent
UPPER = ("retrieval", "indexing", "server", "cli", "integrations", "positions", "evaluation", "evidence")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["search", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports at module level (what runs when it is imported)."""
    out: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join(here + ([node.module] if node.module else []))
            out.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {m for m in out if m in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    return found


def test_the_lazy_exports_and_the_typed_imports_name_the_same_things() -> None:
    """``search/__init__`` keeps a table for lazy imports and a TYPE_CHECKING block for type checkers:
    they must agree, and every name must resolve."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    typed = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for imp in node.body
        if isinstance(imp, ast.ImportFrom)
        for alias in imp.names
    }
    assert typed == set(search._EXPORTS)
    for name, module in search._EXPORTS.items():
        assert getattr(importlib.import_module(f"search.{module}"), name) is getattr(search, name)
    assert set(search.__all__) == typed | {"__version__"}


def test_the_import_graph_has_no_cycles() -> None:
    assert cycles(graph()) == []


def test_the_store_never_imports_what_sits_above_it() -> None:
    up = [
        (name, target)
        for name, targets in graph().items()
        if name.startswith("search.store")
        for target in targets
        if target == "search" or target.split(".")[1] in UPPER
    ]
    assert up == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The two graph checks, shown to fail on a graph that has what they refuse."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    known = {"search": Path("x"), "search.store.reader": Path("y"), "search.retrieval": Path("z")}
    tree = "from .. import __version__\nfrom ..retrieval import Engine\n"
    probe = tmp_path / "reader.py"
    probe.write_text(tree)
    assert imported("search.store.reader", probe, known) == {"search", "search.retrieval"}
