"""The program's imports hold to the layers written in components/LAYERS.md, and form no circle; the
program never imports the tooling."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "components"
_ROW = re.compile(r"^\| (\d+) \| [^|]+ \| ([^|]+) \|([\d ]*)\|$")


def _layers() -> dict[str, tuple[int, set[int]]]:
    """Pattern -> (its layer, the layers it may import), from the table in LAYERS.md."""
    rows = {}
    for line in (PACKAGE / "LAYERS.md").read_text().splitlines():
        found = _ROW.match(line)
        if found:
            layer, patterns, allowed = found.groups()
            for pattern in re.findall(r"`([^`]+)`", patterns):
                rows[pattern] = (int(layer), {int(n) for n in allowed.split()})
    return rows


def _modules() -> dict[str, Path]:
    """Each module of the program by its path in LAYERS.md's terms."""
    modules = {p.relative_to(PACKAGE).as_posix(): p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    return modules | {"__main__.py": ROOT / "__main__.py"}


def _imports(path: Path) -> set[str]:
    """The program modules ``path`` imports, by path; ``tooling/...`` for the tooling package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            top, *rest = name.split(".")
            if top == "tooling":
                found.add("tooling/")
            elif top == "components" and rest and (PACKAGE.joinpath(*rest).with_suffix(".py")).is_file():
                found.add("/".join(rest) + ".py")
    return found


def _layer_of(module: str, rows: dict[str, tuple[int, set[int]]]) -> tuple[int, set[int]]:
    matching = sorted((pattern.count("*"), pattern) for pattern in rows if fnmatch(module, pattern))
    assert matching, f"{module} is in no layer of LAYERS.md"
    return rows[matching[0][1]]


def test_the_table_is_read() -> None:
    rows = _layers()
    assert len({layer for layer, _ in rows.values()}) == 8
    assert _layer_of("release/values.py", rows)[0] == 6
    assert _layer_of("dags/settings.py", rows)[0] == 3


def _problems(graph: dict[str, set[str]], rows: dict[str, tuple[int, set[int]]]) -> list[str]:
    """Every import of ``graph`` (module -> what it imports) that its layer does not allow."""
    wrong = []
    for module, imported in sorted(graph.items()):
        layer, allowed = _layer_of(module, rows)
        for target in sorted(imported):
            if target == "tooling/":
                wrong.append(f"{module} imports the tooling")
            elif (target_layer := _layer_of(target, rows)[0]) not in allowed:
                wrong.append(f"{module} (layer {layer}) imports {target} (layer {target_layer})")
    return wrong


def _graph() -> dict[str, set[str]]:
    return {module: _imports(path) for module, path in _modules().items()}


def test_every_import_stays_within_its_layers() -> None:
    assert _problems(_graph(), _layers()) == []


def test_a_climbing_import_is_refused() -> None:
    """The check can fail: a settings model importing a component, a component importing the whole
    stack model, or the program importing the tooling."""
    graph = {
        "dags/settings.py": {"dags/delivery.py"},
        "network/policies.py": {"settings.py"},
        "stack.py": {"tooling/"},
    }
    assert _problems(graph, _layers()) == [
        "dags/settings.py (layer 3) imports dags/delivery.py (layer 5)",
        "network/policies.py (layer 5) imports settings.py (layer 4)",
        "stack.py imports the tooling",
    ]


def test_the_imports_form_no_circle() -> None:
    graph = {module: imported - {"tooling/"} for module, imported in _graph().items()}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        if state.get(module) == "open":
            pytest.fail(" -> ".join([*trail[trail.index(module) :], module]))
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])
