"""Load any saved report back from its JSON (``monitorkit.load_report``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from monitorkit.errors import ReportFormatError
from monitorkit.store import read_json_file


def _loaders() -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    from monitorkit.baseline import Baseline
    from monitorkit.drift import DriftReport
    from monitorkit.overview import DataOverview
    from monitorkit.profiles import Profile

    return {
        "drift": DriftReport.from_dict,
        "data_overview": DataOverview.from_dict,
        "baseline": Baseline.from_dict,
        "profile": Profile.from_dict,
    }


def load_report(source: str | os.PathLike | Mapping[str, Any]) -> Any:
    """Rebuild a report from ``report.to_json()`` / ``to_dict()`` output, or a JSON file path.

    The rebuilt report has every result and view (``to_frame()``, text, HTML) but no data.
    """
    if isinstance(source, Mapping):
        data = source
    elif isinstance(source, os.PathLike) or not str(source).lstrip().startswith("{"):
        data = read_json_file(source, "report file")
    else:
        try:
            data = json.loads(str(source))
        except json.JSONDecodeError as exc:
            raise ReportFormatError(
                f"report is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from exc
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ReportFormatError("not a monitorkit report: the JSON has no 'kind' field.")
    loaders = _loaders()
    if data["kind"] not in loaders:
        raise ReportFormatError(
            f"unknown report kind {data['kind']!r}; this monitorkit reads: {', '.join(loaders)}."
        )
    return loaders[data["kind"]](data)
