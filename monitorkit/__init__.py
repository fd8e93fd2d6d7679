"""monitorkit: keep machine-learning models honest in production.

The public API is what this module exports; see the README for a tour.

``import monitorkit`` is light: the names below are imported on first use, so serving code that
only logs predictions never loads scipy, matplotlib, ipywidgets, IPython, papermill or nbconvert
(``tests/test_import.py`` checks it; ``benchmarks/bench_import.py`` times it).
"""

from __future__ import annotations

import importlib
from typing import Any

from monitorkit._version import __version__ as __version__
from monitorkit.errors import MonitorkitError as MonitorkitError
from monitorkit.severity import Severity as Severity

# name -> module that defines it (imported on first access)
_LAZY = {
    "Baseline": "monitorkit.baseline",
    "ColumnSpec": "monitorkit.schema",
    "DataOverview": "monitorkit.overview",
    "DecisionRule": "monitorkit.drift",
    "DriftReport": "monitorkit.drift",
    "History": "monitorkit.history",
    "Profile": "monitorkit.profiles",
    "PerformanceReport": "monitorkit.performance",
    "PredictionLog": "monitorkit.capture.log",
    "QualityReport": "monitorkit.quality",
    "Report": "monitorkit.report",
    "ResolvedSpec": "monitorkit.schema",
    "as_reference": "monitorkit.reference",
    "instrument": "monitorkit.capture.instrument",
    "join_labels": "monitorkit.performance",
    "load_report": "monitorkit.report",
    "merge_profiles": "monitorkit.profiles",
    "profile": "monitorkit.profiles",
    "read_frame": "monitorkit.schema",
    "save_html": "monitorkit.display",
    "sql": "monitorkit.database",
}
_SUBMODULES = (
    "alerts",
    "capture",
    "datasets",
    "errors",
    "display",
    "stats",
    "drift",
    "quality",
    "performance",
    "windows",
)

__all__ = sorted(["MonitorkitError", "Severity", "__version__", *_LAZY, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"monitorkit.{name}")
    else:
        raise AttributeError(f"module 'monitorkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
