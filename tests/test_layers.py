"""Layers point one way (STYLE.md): computation never imports display code, the drift package
has no import cycle, and ``import monitorkit`` stays light for serving code."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import monitorkit

PACKAGE_ROOT = Path(monitorkit.__file__).parent
# What may import display packages: the display layer itself, and what runs notebooks.
PRESENTING = ("monitorkit.display", "monitorkit.runner", "monitorkit.cli")
DISPLAY_PACKAGES = ["matplotlib", "ipywidgets", "IPython"]
HEAVY_PACKAGES = ["scipy", "matplotlib", "ipywidgets", "IPython", "papermill", "nbconvert"]


def _all_modules() -> list[str]:
    names = ["monitorkit"]
    for info in pkgutil.walk_packages([str(PACKAGE_ROOT)], prefix="monitorkit."):
        names.append(info.name)
    return names


def computing_modules() -> list[str]:
    return [m for m in _all_modules() if not m.startswith(PRESENTING)]


def test_the_walk_finds_the_packages():
    modules = computing_modules()
    assert {"monitorkit.drift.report", "monitorkit.stats.numeric", "monitorkit.report"} <= set(
        modules
    )
    assert not any(m.startswith("monitorkit.display") for m in modules)


def test_computing_modules_import_without_display_packages():
    blocker = "; ".join(f"sys.modules[{name!r}] = None" for name in DISPLAY_PACKAGES)
    imports = "; ".join(f"import {module}" for module in computing_modules())
    code = f"import sys; {blocker}; {imports}; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _imports_within(package: str) -> dict[str, set[str]]:
    """For each module of ``package``, the modules of the same package it imports (any depth
    of the file, so imports inside functions count too)."""
    folder = PACKAGE_ROOT / package.split(".", 1)[1].replace(".", "/")
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        name = package if path.stem == "__init__" else f"{package}.{path.stem}"
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(package + "."):
                    found.add(node.module)
                elif node.module == package:
                    found.update(f"{package}.{alias.name}" for alias in node.names)
        graph[name] = found - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_detection_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_drift_package_has_no_import_cycle_and_only_its_facade_imports_upward():
    graph = _imports_within("monitorkit.drift")
    assert len(graph) >= 8
    assert _cycle(graph) is None, _cycle(graph)
    # Modules of the package import each other directly, never through its __init__.
    assert not any("monitorkit.drift" in deps for deps in graph.values())


def test_importing_monitorkit_is_light():
    code = (
        "import sys, monitorkit; monitorkit.Severity; monitorkit.ColumnSpec; "
        f"print(sorted(m for m in {HEAVY_PACKAGES!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in monitorkit.__all__:
        assert getattr(monitorkit, name) is not None, name
