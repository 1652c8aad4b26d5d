"""The tree keeps its rooms: imports point one way, no package cycle, modules stay small.

Read from the source (no import), so the checks are cheap and say exactly which file broke the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent / "tracker"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Every ``tracker…`` module ``name`` imports, at module level or inside functions."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tracker"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.startswith("tracker"):
                found.update([target] if node.module else [f"{target}.{a.name}" for a in node.names])
    return found


def _room(module: str) -> str:
    """The package (or top-level module) a module lives in: ``tracker.tasks.due`` → ``tasks``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "tracker"


def _package_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in _modules().items():
        if name == "tracker":  # the app factory wires every room together by design
            continue
        for target in _imports(name, path):
            a, b = _room(name), _room(target)
            if a != b and "models" not in {a, b}:
                g.add_edge(a, b, example=f"{name} → {target}")
    return g


def test_no_import_cycle_between_packages() -> None:
    g = _package_graph()
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], [[g.edges[u, v]["example"] for u, v in zip(c, c[1:] + c[:1], strict=True)] for c in cycles]


def test_services_never_import_the_web_layer() -> None:
    g = _package_graph()
    offenders = [g.edges[u, "web"]["example"] for u in g.predecessors("web")] if "web" in g else []
    assert offenders == []


def test_the_task_core_reads_no_request_and_no_current_app() -> None:
    for path in (ROOT / "tasks").glob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "flask":
                imported.update(a.name for a in node.names)
        assert not imported & {"request", "current_app", "session", "g"}, path.name


def test_no_module_is_over_the_size_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(ROOT.parent)): n
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_private_helpers_stay_in_their_module() -> None:
    """``from x import _name`` across modules means the helper is shared: make it public where both see it."""
    offenders = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").lstrip(".") != "__future__":
                offenders += [
                    f"{name}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__") and a.name != "_"
                ]
    assert offenders == []
