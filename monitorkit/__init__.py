"""monitorkit: keep machine-learning models honest in production.

The public API is what this module exports; see the README for a tour.
"""

from __future__ import annotations

from monitorkit import datasets, errors
from monitorkit._version import __version__
from monitorkit.baseline import Baseline
from monitorkit.drift import DecisionRule, DriftReport
from monitorkit.errors import MonitorkitError
from monitorkit.overview import DataOverview
from monitorkit.profiles import Profile, merge_profiles, profile
from monitorkit.reports import load_report
from monitorkit.schema import ColumnSpec, ResolvedSpec, read_frame

__all__ = [
    "Baseline",
    "ColumnSpec",
    "DataOverview",
    "DecisionRule",
    "DriftReport",
    "MonitorkitError",
    "Profile",
    "ResolvedSpec",
    "__version__",
    "datasets",
    "errors",
    "load_report",
    "merge_profiles",
    "profile",
    "read_frame",
]
