"""Past runs from the report store: tables for people (``monitorkit history``) and
:class:`History`, the view of every run of a model (or the last run of every model) over time.

:class:`History` reads ``index.jsonl`` and each run's ``summary.json`` (for its alerts); it
shows itself like a report — text, static HTML (:mod:`monitorkit.display.history`) and, in a
live kernel, widgets — and never computes a statistic beyond the band it draws around a trend.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from monitorkit import store
from monitorkit.errors import InputError
from monitorkit.severity import Severity

BASELINE_TOLERANCE = 0.10
"""Half-width of the band drawn around a recorded baseline, relative to it: the performance
report's default warning tolerance (a change beyond it, in the bad direction, warns)."""
ROLLING_WINDOW = 10
"""Runs before each one whose mean ± 3 standard deviations make the band of a figure without
a recorded baseline (as the alert rules' rolling baseline does)."""
HEADLINE_FIGURES = (
    "drift.share_drifted",
    "quality.problems",
    "quality.critical",
    "performance.problems",
)


def model_history(model_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per run of a model, oldest first: time, status, severity, verdict, figures.

    Key figures (``figures`` of each run's summary) become one column each.
    """
    records = store.read_index(model_dir)
    rows = []
    for record in records:
        row: dict[str, Any] = {
            "run_id": record.get("run_id"),
            "started_at": record.get("started_at"),
            "status": record.get("status"),
            "severity": record.get("severity"),
            "exit_code": record.get("exit_code"),
            "duration_s": record.get("duration_s"),
            "verdict": record.get("verdict") or record.get("error"),
            "inputs": ", ".join(f"{k}={v}" for k, v in (record.get("inputs") or {}).items()),
        }
        for name, value in (record.get("figures") or {}).items():
            row[name] = value
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601")
    return frame


def store_overview(root: str | os.PathLike) -> pd.DataFrame:
    """One row per model under ``root``: number of runs, and the latest run's status."""
    models = store.list_models(root)
    return pd.DataFrame([_model_row(path, store.read_index(path)) for path in models])


def _model_row(model_dir: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A model's line of the store: its runs, failures and its latest run's status."""
    last = records[-1] if records else {}
    return {
        "model": model_dir.name,
        "runs": len(records),
        "failed": sum(r.get("status") == "failed" for r in records),
        "last_run": last.get("started_at"),
        "last_status": last.get("status"),
        "last_severity": last.get("severity"),
        "last_verdict": last.get("verdict") or last.get("error"),
    }


def format_model_history(model_dir: str | os.PathLike, limit: int = 20) -> str:
    frame = model_history(model_dir)
    name = Path(model_dir).name
    if frame.empty:
        return f"{name}: no runs yet"
    shown = frame.tail(limit).copy()
    shown["started_at"] = shown["started_at"].dt.strftime("%Y-%m-%d %H:%M:%SZ")
    shown["severity"] = shown["severity"].fillna("-")
    shown["verdict"] = shown["verdict"].fillna("").map(lambda v: _shorten(str(v), 70))
    for column in shown.columns:
        # Counts read back from JSON as floats (12.0) print as the integers they are.
        values = shown[column]
        if values.dtype.kind == "f" and values.dropna().map(float.is_integer).all():
            shown[column] = values.astype("Int64")
    header = f"{name}: {len(frame)} run(s)" + (
        f", last {len(shown)} shown" if len(shown) < len(frame) else ""
    )
    # Headline figures only (``drift.share_drifted``); per-column ones
    # (``drift.column.age.statistic``) stay in model_history() and summary.json.
    columns = [c for c in shown.columns if c != "exit_code" and c.count(".") <= 1]
    return header + "\n" + shown[columns].to_string(index=False, na_rep="-")


def format_store_overview(root: str | os.PathLike) -> str:
    frame = store_overview(root)
    if frame.empty:
        return f"no models with runs under {root} (run `monitorkit demo` to make one)"
    frame["last_verdict"] = frame["last_verdict"].fillna("").map(lambda v: _shorten(str(v), 60))
    return frame.to_string(index=False, na_rep="-")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------------------------
# History: the view
# --------------------------------------------------------------------------------------------


def _alerts_of(model_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """The alerts a run recorded in its summary.json: firing count, worst severity, rules."""
    folder = record.get("folder") or record.get("run_id")
    empty = {"alerts_firing": 0, "alerts_severity": None, "alerts": ""}
    if not folder:
        return empty
    try:
        summary = json.loads((model_dir / folder / store.SUMMARY_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return empty
    alerts = summary.get("alerts") or {}
    firing = [a for a in alerts.get("firing") or [] if isinstance(a, dict)]
    severities = [a.get("severity") for a in firing if a.get("severity") in ("warning", "critical")]
    return {
        "alerts_firing": len(firing),
        "alerts_severity": str(Severity.worst(severities)) if severities else None,
        "alerts": ", ".join(str(a.get("rule")) for a in firing),
    }


def _text(value: Any) -> str | None:
    """A string cell, or None for a missing one (pandas reads None back as NaN)."""
    return value if isinstance(value, str) and value else None


def _status_severity(status: Any, severity: Any) -> Severity:
    """A run's place on the one scale: a failed run counts as critical."""
    if status == "failed":
        return Severity.CRITICAL
    try:
        return Severity.of(severity) if _text(severity) else Severity.OK
    except (ValueError, TypeError):
        return Severity.OK


class History:
    """Every run of a model over time, or the last run of every model in a report store.

    Parameters
    ----------
    path
        A model's folder (``reports/churn``, holding ``index.jsonl``): one row per run; or
        the store's root (``reports``): one row per model.
    figures
        The figures to trend (default: the headline figures every run has — drift share,
        quality problems — and each performance metric with a recorded baseline).
    limit
        Only the last ``limit`` runs (None: all).

    Examples
    --------
    >>> import monitorkit as mk
    >>> history = mk.History("reports/churn")          # doctest: +SKIP
    >>> history.runs[["started_at", "status", "severity"]]   # doctest: +SKIP
    >>> history.trend("performance.recall")  # value, baseline, band  # doctest: +SKIP
    """

    kind = "history"
    title = "History"

    def __init__(
        self,
        path: str | os.PathLike = "reports",
        *,
        figures: list[str] | tuple[str, ...] | None = None,
        limit: int | None = None,
    ) -> None:
        self.path = Path(path)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise InputError(f"limit must be a positive integer or None; got {limit!r}.")
        self.limit = limit
        if (self.path / store.INDEX_NAME).is_file():
            self.mode = "model"
        elif self.path.is_dir():
            self.mode = "store"
        else:
            raise InputError(
                f"{self.path} is neither a report store nor a model folder (no "
                f"{store.INDEX_NAME}); run `monitorkit demo` or `monitorkit run` to create one."
            )
        self._figures = list(figures) if figures is not None else None
        self.runs = self._runs() if self.mode == "model" else pd.DataFrame()
        self.models = self._models() if self.mode == "store" else pd.DataFrame()

    # ---- tables ------------------------------------------------------------------------------

    def _runs(self) -> pd.DataFrame:
        frame = model_history(self.path)
        if frame.empty:
            return frame
        records = store.read_index(self.path)
        alerts = pd.DataFrame([_alerts_of(self.path, r) for r in records], index=frame.index)
        frame = pd.concat([frame, alerts], axis=1)
        if self.limit is not None:
            frame = frame.tail(self.limit).reset_index(drop=True)
        return frame

    def _models(self) -> pd.DataFrame:
        rows = []
        for model_dir in store.list_models(self.path):
            records = store.read_index(model_dir)
            if self.limit is not None:
                records = records[-self.limit :]
            last = records[-1] if records else {}
            figures = last.get("figures") or {}
            row = _model_row(model_dir, records)
            row["recent"] = " ".join(
                str(_status_severity(r.get("status"), r.get("severity")))
                if r.get("status") != "failed"
                else "failed"
                for r in records[-20:]
            )
            row.update(_alerts_of(model_dir, last) if last else {})
            for name in HEADLINE_FIGURES:
                if name in figures:
                    row[name] = figures[name]
            rows.append(row)
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["last_run"] = pd.to_datetime(frame["last_run"], utc=True, format="ISO8601")
        return frame

    def to_frame(self) -> pd.DataFrame:
        """One row per run (a model's folder) or per model (the store's root)."""
        return (self.runs if self.mode == "model" else self.models).copy()

    @property
    def figures(self) -> list[str]:
        """The figures trended: those given, else the headline figures found and each
        performance metric that has a recorded ``.baseline``."""
        if self._figures is not None:
            return list(self._figures)
        if self.mode != "model" or self.runs.empty:
            return []
        columns = set(self.runs.columns)
        chosen = [f for f in HEADLINE_FIGURES if f in columns]
        chosen += sorted(
            c[: -len(".baseline")]
            for c in columns
            if c.startswith("performance.") and c.endswith(".baseline")
            and "|" not in c and c[: -len(".baseline")] in columns
        )  # fmt: skip
        return chosen

    def trend(self, figure: str) -> pd.DataFrame:
        """One row per run: ``started_at``, ``run_id``, ``status``, ``severity``, ``value``,
        ``baseline`` (the run's recorded ``<figure>.baseline``, else NaN), and the band
        ``lower`` / ``upper``: baseline ± :data:`BASELINE_TOLERANCE` of it where a baseline
        was recorded, else the mean ± 3 standard deviations of the :data:`ROLLING_WINDOW`
        runs before (NaN until two of them have the figure)."""
        if self.mode != "model":
            raise InputError("trend() needs a model's folder (reports/<model>), not the root.")
        runs = self.runs
        if figure not in runs.columns:
            known = ", ".join(sorted(c for c in runs.columns if "." in c)[:10])
            raise InputError(f"no run has the figure '{figure}' (figures: {known}, …).")
        values = pd.to_numeric(runs[figure], errors="coerce").astype(float)
        frame = pd.DataFrame(
            {
                "started_at": runs["started_at"],
                "run_id": runs["run_id"],
                "status": runs["status"],
                "severity": runs["severity"],
                "value": values,
            }
        )
        baseline_column = f"{figure}.baseline"
        if baseline_column in runs.columns:
            baseline = pd.to_numeric(runs[baseline_column], errors="coerce").astype(float)
            frame["baseline"] = baseline
            frame["lower"] = baseline - BASELINE_TOLERANCE * baseline.abs()
            frame["upper"] = baseline + BASELINE_TOLERANCE * baseline.abs()
        else:
            earlier = values.shift(1).rolling(ROLLING_WINDOW, min_periods=2)
            mean, spread = earlier.mean(), earlier.std(ddof=1)
            frame["baseline"] = math.nan
            frame["lower"] = mean - 3 * spread
            frame["upper"] = mean + 3 * spread
        return frame

    # ---- the report contract (what display reads) -------------------------------------------

    @property
    def severity(self) -> Severity:
        """The last run's severity (a failed run counts as critical); for the store's root,
        the worst over the models' last runs."""
        if self.mode == "model":
            if self.runs.empty:
                return Severity.OK
            last = self.runs.iloc[-1]
            return _status_severity(last["status"], last["severity"])
        if self.models.empty:
            return Severity.OK
        return Severity.worst(
            _status_severity(s, v)
            for s, v in zip(self.models["last_status"], self.models["last_severity"])
        )

    @property
    def verdict(self) -> str:
        if self.mode == "model":
            name = self.path.name
            if self.runs.empty:
                return f"{name}: no runs yet"
            last = self.runs.iloc[-1]
            when = pd.Timestamp(last["started_at"]).strftime("%Y-%m-%d %H:%M UTC")
            status = "failed" if last["status"] == "failed" else (_text(last["severity"]) or "done")
            return (
                f"{name}: {len(self.runs)} run(s); the last ({when}) {status}: "
                f"{_text(last['verdict']) or ''}".rstrip(": ")
            )
        if self.models.empty:
            return f"no models with runs under {self.path}"
        counts = {}
        for status, severity in zip(self.models["last_status"], self.models["last_severity"]):
            word = "failed" if status == "failed" else (_text(severity) or "ok")
            counts[word] = counts.get(word, 0) + 1
        order = ("failed", "critical", "warning", "ok")
        parts = [f"{counts[w]} {w}" for w in order if w in counts]
        return f"{len(self.models)} model(s), by their last run: {', '.join(parts)}"

    def __str__(self) -> str:
        if self.mode == "model":
            return format_model_history(self.path, limit=self.limit or 20)
        return format_store_overview(self.path)

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from monitorkit.display import mimebundle

        return mimebundle(self, include, exclude)

    def _ipython_display_(self) -> None:
        # As a report: in a notebook, several outputs (each trend an image/png of its own, which
        # every renderer shows); see monitorkit.display.show.
        from monitorkit.display import show

        show(self)

    def to_html(self) -> str:
        from monitorkit.display import report_html

        return report_html(self)

    def save_html(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """A self-contained, offline page of this history."""
        from monitorkit.display import save_html

        return save_html(path, self, title=f"monitorkit history: {self.path.name}",
                         overwrite=overwrite)  # fmt: skip
