"""The house rule: imports between the packages of ``src/callcenter`` point down only.

Every ``import`` in the source tree (also those inside functions and under
``TYPE_CHECKING``: a circle on paper is still a circle) is read with :mod:`ast` and
checked against :data:`LAYERS` and :data:`SIDEWAYS`; ``docs/architecture.md`` draws the
same table. A new top-level package must be given a layer here before it can land.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import pytest

import callcenter

SRC: Final = Path(callcenter.__file__).resolve().parent

# Top to bottom. A package may import any package of a lower layer, and a package of
# its own layer only where SIDEWAYS says so.
LAYERS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("command line", frozenset({"cli"})),
    ("server assembly", frozenset({"server"})),
    ("pages", frozenset({"web"})),
    ("HTTP API", frozenset({"api"})),
    ("services", frozenset({"live"})),
    (
        "domains",
        frozenset(
            {
                "auth",
                "callers",
                "crm",
                "imports",
                "kpi",
                "queueing",
                "routing",
                "sim",
                "speech",
                "voice",
                "wfm",
            }
        ),
    ),
    ("storage", frozenset({"storage"})),
    ("events", frozenset({"events"})),
    ("foundation", frozenset({"", "errors", "inputs", "settings", "units", "yamlfile"})),
)

# Imports allowed between packages of one layer (importer -> imported).
SIDEWAYS: Final[dict[str, frozenset[str]]] = {
    "sim": frozenset({"routing"}),
    "wfm": frozenset({"kpi", "queueing", "sim"}),
    "imports": frozenset({"speech"}),
    "crm": frozenset({"auth"}),
    "settings": frozenset({"errors"}),
    "units": frozenset({"errors"}),
    "yamlfile": frozenset({"errors"}),
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in SRC.rglob("*.py"):
        parts = ["callcenter", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES: Final = _modules()


def _imported(module: str, path: Path) -> set[str]:
    """The callcenter modules ``module`` imports (each resolved to a known module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
            subs = [f"{target}.{a.name}" for a in node.names]
            names = [n for n in subs if n in MODULES]
            if len(names) < len(subs):
                names.append(target)
        for name in names:
            if not name.startswith("callcenter"):
                continue
            while name not in MODULES and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in MODULES and name != module:
                found.add(name)
    return found


GRAPH: Final = {m: _imported(m, p) for m, p in MODULES.items()}


def package_of(module: str) -> str:
    """The top-level package (or module) under ``callcenter``; "" for the root itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank() -> dict[str, int]:
    rank: dict[str, int] = {}
    for i, (_name, packages) in enumerate(LAYERS):
        for p in packages:
            rank[p] = i
    return rank


RANK: Final = _rank()


def test_every_package_has_a_layer() -> None:
    packages = {package_of(m) for m in MODULES}
    assert sorted(packages - set(RANK)) == []


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run up the layers, or sideways without a SIDEWAYS entry."""
    bad = []
    for importer, targets in graph.items():
        a = package_of(importer)
        for target in targets:
            b = package_of(target)
            if a == b:
                continue
            if RANK[b] > RANK[a] or (RANK[b] == RANK[a] and b in SIDEWAYS.get(a, frozenset())):
                continue
            bad.append(f"{importer} -> {target} ({a!r} may not import {b!r})")
    return sorted(bad)


def test_imports_point_down_only() -> None:
    assert layer_violations(GRAPH) == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle() -> None:
    assert cycles(GRAPH) == []


def test_sideways_table_has_no_circle() -> None:
    graph = {a: set(bs) for a, bs in SIDEWAYS.items()}
    assert cycles(graph) == []


# The checks themselves must be able to fail: hand-made graphs with a known answer.


def test_checker_sees_an_upward_import() -> None:
    graph = {"callcenter.storage.db": {"callcenter.live.engine"}, "callcenter.live.engine": set()}
    assert layer_violations(graph) == [
        "callcenter.storage.db -> callcenter.live.engine ('storage' may not import 'live')"
    ]


def test_checker_sees_an_undeclared_sideways_import() -> None:
    graph = {"callcenter.kpi.frame": {"callcenter.wfm.history"}}
    assert layer_violations(graph) == [
        "callcenter.kpi.frame -> callcenter.wfm.history ('kpi' may not import 'wfm')"
    ]


def test_checker_sees_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "package"),
    [
        ("callcenter", ""),
        ("callcenter.errors", "errors"),
        ("callcenter.storage.tables.crm", "storage"),
        ("callcenter.api", "api"),
    ],
)
def test_package_of(module: str, package: str) -> None:
    assert package_of(module) == package
