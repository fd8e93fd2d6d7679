"""Computation never imports display code (STYLE.md: layers that point one way)."""

from __future__ import annotations

import subprocess
import sys

COMPUTING_MODULES = [
    "monitorkit",
    "monitorkit.schema",
    "monitorkit.overview",
    "monitorkit.datasets",
    "monitorkit.stats",
    "monitorkit.store",
    "monitorkit.history",
    "monitorkit.drift",
    "monitorkit.reports",
    "monitorkit.profiles",
    "monitorkit.baseline",
]
DISPLAY_PACKAGES = ["matplotlib", "ipywidgets", "IPython"]


def test_computing_modules_import_without_display_packages():
    blocker = "; ".join(f"sys.modules[{name!r}] = None" for name in DISPLAY_PACKAGES)
    imports = "; ".join(f"import {module}" for module in COMPUTING_MODULES)
    code = f"import sys; {blocker}; {imports}; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_importing_monitorkit_is_light():
    code = (
        "import sys, monitorkit; "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'matplotlib', 'ipywidgets') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
