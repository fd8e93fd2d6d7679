"""Data quality: broken data found before it reaches a model, never reported green.

* :mod:`~monitorkit.quality.results` — :class:`Finding`, :class:`Thresholds` and the result;
* :mod:`~monitorkit.quality.expectations` — what the reference (rows or a baseline's profiles)
  says each column should look like;
* :mod:`~monitorkit.quality.checks` — the registry of checks and the built-in ones;
* :mod:`~monitorkit.quality.rules` — the user's rules, in code, text or TOML;
* :mod:`~monitorkit.quality.report` — :class:`QualityReport`.
"""

from __future__ import annotations

from monitorkit.quality.checks import Problem, available_checks, register_check
from monitorkit.quality.report import QualityReport, compute_quality
from monitorkit.quality.results import Finding, QualityResult, QualityWindow, Thresholds
from monitorkit.quality.rules import Rule, load_rules, parse_rule
from monitorkit.quality.validator import Validator, Violation

__all__ = [
    "Finding",
    "Problem",
    "QualityReport",
    "QualityResult",
    "QualityWindow",
    "Rule",
    "Thresholds",
    "Validator",
    "Violation",
    "available_checks",
    "compute_quality",
    "load_rules",
    "parse_rule",
    "register_check",
]
