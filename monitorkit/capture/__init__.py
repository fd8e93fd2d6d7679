"""Capture in the serving path: the prediction log, instrumentation, Prometheus metrics.

Light to import: serving code pays for pyarrow when it first writes, for prometheus_client
when it asks for metrics, and never for scipy, matplotlib or the notebook stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "PredictionLog": "monitorkit.capture.log",
    "LogRange": "monitorkit.capture.log",
    "read_log": "monitorkit.capture.log",
    "instrument": "monitorkit.capture.instrument",
    "Instrumented": "monitorkit.capture.instrument",
    "ServingMetrics": "monitorkit.capture.prometheus",
    "report_registry": "monitorkit.capture.prometheus",
    "push_gauges": "monitorkit.capture.prometheus",
    "write_textfile": "monitorkit.capture.prometheus",
    "log_to_mlflow": "monitorkit.capture.mlflow",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'monitorkit.capture' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
