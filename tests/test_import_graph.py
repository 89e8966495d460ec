"""mlplate's modules import one another without cycles, counting imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "mlplate"


def imported_modules(path: Path) -> set[str]:
    """The mlplate modules ``path`` imports anywhere (top level or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("mlplate."):
                found.add(node.module.split(".")[1])
            elif node.module == "mlplate":
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("mlplate."))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle reached by a depth-first walk (each reported once, from its first module)."""
    found, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif state.get(target) == 0:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if state[module] == 0:
            visit(module, [module])
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_local_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_mlplate_has_no_import_cycles():
    modules = {path.stem: path for path in PACKAGE.glob("*.py")}
    graph = {name: imported_modules(path) & set(modules) - {name} for name, path in modules.items()}
    assert cycles(graph) == []
