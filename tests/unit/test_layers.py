"""The package's layers import one way: no import cycles between `simulation.*` modules.

The intended layering, lowest first: config -> model -> runner -> experiment/executors -> analysis
-> cli; a module imports only from its own layer or lower ones. This test reads every module under
`simulation/` with `ast` (nothing is imported) and builds the graph of imports between them:

- every `import` and `from ... import` statement counts, at any nesting level: an import inside a
  function body runs later, but it is still a dependency, and a cycle through it is still a cycle;
- relative imports are resolved against the importing module's package;
- importing `a.b.c` imports the packages `a` and `a.b` too (their `__init__`), and
  `from a.b import c` imports `a.b.c` when that is a module;
- imports under `if TYPE_CHECKING:` are left out: they are never executed, and exist only so that
  annotations (strings, with `from __future__ import annotations`) can name a class.

It fails on any strongly connected component of more than one module, naming a cycle in it with
the file and line of each import.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "simulation"
SOURCE = Path(__file__).resolve().parents[2] / PACKAGE

# Cycles tolerated for now, each exactly as it is (a bigger component containing one still fails).
ALLOWED_CYCLES: list[frozenset[str]] = []  # none: a cycle is a layering mistake, not an exception

Edge = tuple[str, int, str]  # (importing module's file, relative to the repository; line; imported module)


def modules(source: Path = SOURCE) -> dict[str, tuple[Path, bool]]:
    """Every module under the package: dotted name -> (file, whether it is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(source.rglob("*.py")):
        parts = list(path.relative_to(source.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in `tree`, at any depth, except under `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _with_packages(name: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`, `a.b.c`]: importing a module runs its packages' __init__ first."""
    parts = name.split(".")
    return [".".join(parts[: k + 1]) for k in range(len(parts))]


def imported(name: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules an import statement in module `name` imports."""
    targets: list[str] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            targets += _with_packages(alias.name)
    else:
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        targets += _with_packages(module)
        targets += [f"{module}.{alias.name}" for alias in node.names]  # a submodule, if there is one
    return {t for t in targets if t in known and t != name}


def import_graph(source: Path = SOURCE) -> dict[str, dict[str, Edge]]:
    """module -> {module it imports: (file, line, module) of the first statement that does}."""
    mods = modules(source)
    known = set(mods)
    graph: dict[str, dict[str, Edge]] = {m: {} for m in mods}
    for name, (path, is_package) in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in sorted(_imports(tree), key=lambda n: n.lineno):
            for target in imported(name, is_package, node, known):
                graph[name].setdefault(target, (path.relative_to(source.parent).as_posix(), node.lineno, target))
    return graph


def strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def a_cycle(graph: dict[str, dict[str, Edge]], component: list[str]) -> str:
    """A shortest cycle through the component's first module, with the file and line of each import."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if nxt not in members:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                path.reverse()
                steps = [graph[a][b] for a, b in zip(path, [*path[1:], start], strict=True)]
                return f"{start} -> " + " -> ".join(f"{target} ({file}:{line})" for file, line, target in steps)
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start} in {component}")  # a component of 2+ always has one


def test_the_graph_sees_imports_in_function_bodies_and_relative_imports() -> None:
    """The graph is what the test below relies on: check it on imports known to be there."""
    graph = import_graph()
    assert "simulation.config" in graph["simulation.runner"]  # at the top of the module
    assert "simulation.runner" in graph["simulation.experiment"]  # inside a function body
    tree = ast.parse("from .compare import summarise\nfrom . import targets\nfrom .. import results\n")
    known = set(graph)
    seen = set().union(*(imported("simulation.analysis.x", False, n, known) for n in _imports(tree)))
    assert seen == {
        "simulation",
        "simulation.analysis",
        "simulation.analysis.compare",
        "simulation.analysis.targets",
        "simulation.results",
    }


def test_a_cycle_through_a_function_body_is_found(tmp_path: Path) -> None:
    """On a made-up package: a lazy import closes a cycle; a TYPE_CHECKING import does not."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "low.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg import high\n")
    (pkg / "high.py").write_text("from pkg import low\nfrom pkg.sub import top\n")
    (pkg / "sub" / "top.py").write_text("def f():\n    from ..high import low\n")
    graph = import_graph(pkg)
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    assert cycles == [["pkg.high", "pkg.sub.top"]]
    assert a_cycle(graph, cycles[0]) == "pkg.high -> pkg.sub.top (pkg/high.py:2) -> pkg.high (pkg/sub/top.py:2)"


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = [c for c in strongly_connected(graph) if len(c) > 1 and frozenset(c) not in ALLOWED_CYCLES]
    assert not cycles, "import cycles between simulation's modules (a layer imports only from itself or below):\n" + (
        "\n".join(f"- {', '.join(c)}: {a_cycle(graph, c)}" for c in cycles)
    )


def test_analysis_does_not_import_the_command_line() -> None:
    graph = import_graph()
    offenders = [
        f"{edge[0]}:{edge[1]}"
        for module, targets in sorted(graph.items())
        if module.startswith(f"{PACKAGE}.analysis.") or module == f"{PACKAGE}.analysis"
        for target, edge in targets.items()
        if target == f"{PACKAGE}.cli"
    ]
    assert not offenders, f"simulation.analysis imports simulation.cli (the top layer) at {', '.join(offenders)}"
