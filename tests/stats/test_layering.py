"""monitorkit.stats is computation only: numpy and scipy, no pandas, no display packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import monitorkit.stats

BLOCKED = ["pandas", "matplotlib", "ipywidgets", "IPython"]
PACKAGE_DIR = Path(monitorkit.stats.__file__).resolve().parent.parent

# monitorkit/__init__.py imports the pandas-based layers, so the subprocess stands in an
# empty `monitorkit` package and imports only monitorkit.stats (and its monitorkit.errors).
CODE = f"""
import importlib.abc, sys, types

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("blocked for this test: " + name)
        return None

sys.meta_path.insert(0, Blocker())
package = types.ModuleType("monitorkit")
package.__path__ = [{str(PACKAGE_DIR)!r}]
sys.modules["monitorkit"] = package

import numpy as np
from monitorkit import stats

for name in stats.available_methods("numeric"):
    stats.get_method(name).func_for("numeric")(np.arange(20.0), np.arange(20.0) + 3)
for name in stats.available_methods("categorical"):
    stats.get_method(name).func_for("categorical")(np.array([5, 6]), np.array([7, 3]))
stats.align_counts(np.array(["a", None], dtype=object), np.array(["b"], dtype=object))
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({BLOCKED!r})))
"""


def test_stats_imports_and_runs_without_pandas_or_display_packages():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
