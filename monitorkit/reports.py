"""Load any saved report back from its JSON (``monitorkit.load_report``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from monitorkit.errors import ReportFormatError


def _loaders() -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    from monitorkit.drift import DriftReport
    from monitorkit.overview import DataOverview

    return {"drift": DriftReport.from_dict, "data_overview": DataOverview.from_dict}


def load_report(source: str | os.PathLike | Mapping[str, Any]) -> Any:
    """Rebuild a report from ``report.to_json()`` / ``to_dict()`` output, or a JSON file path.

    The rebuilt report has every result and view (``to_frame()``, text, HTML) but no data.
    """
    if isinstance(source, Mapping):
        data = source
    else:
        text = str(source)
        if isinstance(source, os.PathLike) or not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise ReportFormatError(f"cannot read report file '{source}': {exc}") from exc
        try:
            data = json.loads(text)
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
