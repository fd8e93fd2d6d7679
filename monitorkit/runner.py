"""Run a template notebook with papermill and leave a versioned report folder.

A run:

1. finds the template (a path, or a name from the templates shipped in ``notebooks/``), reads
   its ``parameters`` cell and checks the given parameters against it: an unknown name or a
   value of the wrong type raises :class:`~monitorkit.errors.ParameterError` before anything is
   created (command-line exit code 2);
2. creates a new folder ``<out>/<model>/<UTC stamp>-<8 hex>/`` (see :mod:`monitorkit.store`);
3. executes the notebook with a real Jupyter kernel, saving the partial notebook after every
   cell, and logging to ``run.log``;
4. writes ``report.ipynb`` (executed, or partial with the error when a cell failed),
   ``report.html`` (static, offline), ``summary.json`` and one line in
   ``<out>/<model>/index.jsonl``.

Secrets. Parameters whose name contains ``token``, ``secret``, ``password``, ``passwd``,
``webhook``, ``credential`` or ``key`` are secrets. Their values never reach a file: they are
handed to the kernel through environment variables, read in the notebook by
:func:`read_secret`, shown as ``"***"`` in ``summary.json`` and ``index.jsonl``, and any
accidental occurrence in the notebook or HTML (e.g. a template printing it) is replaced by
``***`` before those files are written.

The verdict. A template ends with :func:`publish_summary` (severity, key figures, a one-line
verdict). The runner reads it back from the executed notebook; it decides the exit code:
0 ok, 3 warning, 4 critical, 1 failed.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitorkit import store
from monitorkit._version import __version__
from monitorkit.errors import InputError, ParameterError, TemplateError
from monitorkit.provenance import git_state

logger = logging.getLogger(__name__)

SUMMARY_SCHEMA_VERSION = 1
SUMMARY_MIMETYPE = "application/vnd.monitorkit.summary+json"
_WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"
EXIT_CODES = {"ok": 0, "warning": 3, "critical": 4, "failed": 1}
REDACTED = "***"
HASH_LIMIT_BYTES = 256 * 1024 * 1024
"""Input files up to this size are fingerprinted with SHA-256; larger ones by size and mtime."""

_SECRET_NAME = re.compile(r"token|secret|password|passwd|webhook|credential|key", re.IGNORECASE)
_SECRET_ENV_PREFIX = "MONITORKIT_SECRET_"
_ENVIRONMENT_LOCK = threading.Lock()
_STYLE_BLOCK = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL | re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


# --------------------------------------------------------------------------------------------
# Templates and their parameters
# --------------------------------------------------------------------------------------------


def templates_dir() -> Path:
    """Where the shipped templates are: inside the installed package, else the source tree."""
    packaged = Path(__file__).parent / "notebooks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "notebooks"


def available_templates() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.ipynb"))


def find_template(template: str | os.PathLike) -> Path:
    """Resolve a template given as a path to a notebook or as the name of a shipped one."""
    path = Path(template)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    shipped = templates_dir() / f"{path.stem}.ipynb"
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    raise TemplateError(
        f"no template notebook '{template}': not a file, and not one of the shipped templates "
        f"({', '.join(available_templates()) or 'none'}); pass a path to a .ipynb file."
    )


@dataclass(frozen=True)
class TemplateParameter:
    """One entry of a template's ``parameters`` cell: ``name: type = default  # help``."""

    name: str
    type_name: str
    default: str
    help: str

    @property
    def is_secret(self) -> bool:
        return is_secret_name(self.name)

    @property
    def is_required(self) -> bool:
        """Declared with a help comment starting ``(required)``: a run must give it; or
        ``(required unless other)``: a run must give it or ``other``."""
        help_text = self.help.lstrip().lower()
        return help_text.startswith("(required)") or self.required_unless is not None

    @property
    def required_unless(self) -> str | None:
        """``other`` for a help comment starting ``(required unless other)``, else None."""
        match = re.match(r"\s*\(required unless (\w+)\)", self.help, re.IGNORECASE)
        return match.group(1) if match else None


def is_secret_name(name: str) -> bool:
    """True when a parameter called ``name`` holds a secret (see the module docstring)."""
    return bool(_SECRET_NAME.search(name))


def template_parameters(template: str | os.PathLike) -> dict[str, TemplateParameter]:
    """The parameters declared in a template's cell tagged ``parameters``, in order."""
    import papermill

    path = find_template(template)
    try:
        inspected = papermill.inspect_notebook(_read_template(path))
    except Exception as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    if not inspected:
        raise TemplateError(
            f"template {path} has no cell tagged 'parameters' (or it declares nothing); add one "
            'with lines like `model: str = "churn"  # what it means`.'
        )
    return {
        name: TemplateParameter(
            name=name,
            type_name=(info.get("inferred_type_name") or "None").strip(),
            default=info.get("default") or "",
            help=info.get("help") or "",
        )
        for name, info in inspected.items()
    }


def _read_template(path: Path) -> Any:
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    # Templates are Python notebooks; one saved without kernel metadata is still usable.
    notebook.metadata.setdefault("kernelspec", {}).setdefault("language", "python")
    return notebook


def coerce_parameters(
    declared: Mapping[str, TemplateParameter], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``given`` against the template's declared parameters and convert their types.

    Values given as strings (from the command line) are parsed for the declared type:
    ``int``, ``float``, ``bool`` (true/false/yes/no/1/0), ``str``, ``list``/``dict``
    (JSON or a Python literal; a list may also be comma-separated), and ``Optional[...]``
    (``none``/``null`` give None). Values of other Python types must already fit.

    Raises
    ------
    ParameterError
        A name the template does not declare, or a value that does not fit its type.
    """
    unknown = [name for name in given if name not in declared]
    if unknown:
        import difflib

        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"unknown parameter {', '.join(hints)}; this template takes: {', '.join(declared)}."
        )
    return {name: _coerce(declared[name], value) for name, value in given.items()}


def _coerce(parameter: TemplateParameter, value: Any) -> Any:
    type_name = parameter.type_name.replace(" ", "")
    optional = False
    match = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", type_name)
    if match:
        optional, type_name = True, match.group(1)
    base = type_name.split("[", 1)[0].lower()

    def fail(expected: str) -> ParameterError:
        shown = REDACTED if parameter.is_secret else repr(value)
        return ParameterError(
            f"parameter '{parameter.name}' must be {expected}"
            + (" or None" if optional else "")
            + f"; got {shown}"
            + (f" ({parameter.help})" if parameter.help else "")
            + "."
        )

    if value is None or (isinstance(value, str) and optional and value.lower() in ("none", "null")):
        if optional or base in ("none", "any"):
            return None
        raise fail(f"a {base}")
    if base in ("none", "any", ""):
        # An untyped parameter (`x = 3`): keep strings as given, other values as they are.
        return value
    if base == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise fail("a string")
    if base == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.lower() in ("true", "yes", "1")
        raise fail("true or false")
    if base == "int":
        if isinstance(value, bool):
            raise fail("an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value.replace("_", ""))
        raise fail("an integer")
    if base == "float":
        if isinstance(value, bool):
            raise fail("a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value)
        raise fail("a number")
    if base in ("list", "tuple", "sequence"):
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            parsed = _parse_literal(value)
            if isinstance(parsed, (list, tuple)):
                return list(parsed)
            return [item.strip() for item in value.split(",") if item.strip()]
        raise fail("a list")
    if base in ("dict", "mapping"):
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, str):
            parsed = _parse_literal(value)
            if isinstance(parsed, dict):
                return parsed
        raise fail("a mapping (JSON object)")
    raise fail(f"of type {parameter.type_name}")  # a type this runner does not know how to check


def _parse_literal(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


# --------------------------------------------------------------------------------------------
# Inside the notebook
# --------------------------------------------------------------------------------------------


def read_secret(name: str) -> str:
    """The value of secret parameter ``name`` inside a running template (never stored)."""
    return os.environ.get(_SECRET_ENV_PREFIX + name.upper(), "")


def publish_summary(
    *reports: Any,
    severity: str | None = None,
    verdict: str | None = None,
    figures: Mapping[str, Any] | None = None,
) -> None:
    """Publish a template's verdict so that the runner records it (call it once, early).

    In a kernel it displays the verdict (the page's one banner, the severity in words) and
    attaches the machine-readable payload (:func:`summary_payload`) under the MIME type
    :data:`SUMMARY_MIMETYPE`, which the runner reads back from the executed notebook.

    Parameters
    ----------
    reports
        The run's reports (``publish_summary(drift, quality)``): the severity is the worst of
        theirs, the verdict joins the verdicts of those at that severity, and their figures are
        published under ``<kind>.<figure>`` (``drift.share_drifted``). A report that could
        judge nothing (``report.not_judged``) makes the run fail (exit 1) with that reason.
    severity
        ``"ok"``, ``"warning"`` or ``"critical"`` (without reports, or to override them);
        decides the exit code of ``monitorkit run``.
    verdict
        One sentence a person reads first, e.g. ``"4 of 25 columns drifted"``.
    figures
        More key figures (numbers or short strings) for ``summary.json``, ``index.jsonl`` and
        ``monitorkit history``.
    """
    from monitorkit.severity import Severity

    payload = summary_payload(*reports, severity=severity, verdict=verdict, figures=figures)
    from IPython.display import display

    from monitorkit.display.html import banner, fragment

    severity = Severity.of(payload["severity"])
    display(
        {
            SUMMARY_MIMETYPE: payload,
            "text/html": fragment(banner(severity, "Verdict", payload["verdict"])),
            "text/plain": f"{severity.upper()}: {payload['verdict']}",
        },
        raw=True,
    )


def summary_payload(
    *reports: Any,
    severity: str | None = None,
    verdict: str | None = None,
    figures: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The machine-readable verdict :func:`publish_summary` attaches (no display, no kernel).

    ``{"severity": "ok" | "warning" | "critical", "verdict": str, "figures": {name: value},
    "not_judged": ["<report title>: <why>", …]}``; the arguments are those of
    :func:`publish_summary`, which also accepts them positionally as
    ``publish_summary("warning", "verdict", {figures})``.
    """
    from monitorkit.severity import Severity

    if reports and isinstance(reports[0], str):  # publish_summary("warning", "…", {…})
        severity, verdict, figures = (list(reports) + [verdict, figures])[:3]
        reports = ()
    published_figures: dict[str, Any] = {}
    not_judged = []
    for report in reports:
        published_figures.update({f"{report.kind}.{k}": v for k, v in report.figures.items()})
        reason = getattr(report, "not_judged", None)
        if reason:
            not_judged.append(f"{report.title}: {reason}")
    published_figures.update(dict(figures or {}))
    if severity is None:
        if not reports:
            raise InputError("publish_summary needs reports or a severity.")
        severity = Severity.worst(r.severity for r in reports)
    severity = Severity.of(severity)
    if verdict is None:
        if not reports:
            raise InputError("publish_summary needs reports or a verdict.")
        leading = [r for r in reports if r.severity == severity] or list(reports)
        verdict = "; ".join(r.verdict for r in leading)
    return {
        "severity": severity.value,
        "verdict": str(verdict),
        "figures": json.loads(json.dumps(published_figures, default=str)),
        "not_judged": not_judged,
    }


def _published_summary(notebook: Any) -> dict[str, Any] | None:
    """The last payload published with :func:`publish_summary` in an executed notebook."""
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SUMMARY_MIMETYPE in data:
                found = data[SUMMARY_MIMETYPE]
    return found


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What a run left: its folder, status, severity and exit code, and the summary written."""

    folder: Path
    status: str  # "succeeded" or "failed"
    severity: str | None
    exit_code: int
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def html(self) -> Path:
        return self.folder / store.HTML_NAME

    @property
    def notebook(self) -> Path:
        return self.folder / store.NOTEBOOK_NAME


def run_template(
    template: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    model: str | None = None,
    out: str | os.PathLike = "reports",
    progress: bool = True,
    timeout: float | None = None,
    alerts: Any = None,
    prometheus: Mapping[str, Any] | None = None,
) -> RunResult:
    """Execute ``template`` with ``parameters`` and write a versioned report folder.

    Parameters
    ----------
    template
        A path to a notebook, or the name of a shipped template (``"monitoring"``).
    parameters
        Values for the template's ``parameters`` cell; strings are parsed for the declared type.
    model
        The model name (report folder ``<out>/<model>/``). Defaults to the ``model`` parameter
        when given, else the template's file name.
    out
        The report store's root folder.
    progress
        Show a progress bar of executed cells on stderr.
    timeout
        Seconds a single cell may run (None: no limit).
    alerts
        An alert rules file (or :class:`~monitorkit.alerts.AlertConfig`): evaluated after the
        notebook ran, notifications sent, recorded under ``"alerts"`` in ``summary.json`` and at
        the top of the report; the exit code then follows the highest severity of the firing
        alerts (:mod:`monitorkit.alerts.run`).
    prometheus
        ``{"pushgateway": URL, "textfile": FOLDER, "job": NAME}`` (each optional): after the
        run, its gauges (:mod:`monitorkit.capture.prometheus`) are pushed to the Pushgateway
        and/or written for the textfile collector, and the outcome is recorded under
        ``"prometheus"`` in ``summary.json``; a failure is logged, never fails the run.

    Returns
    -------
    RunResult
        ``status`` is ``"failed"`` (exit code 1) when a cell raised or the kernel died; the
        folder then holds the partial notebook and the error in ``summary.json``.

    Raises
    ------
    TemplateError, ParameterError
        Before anything is created, for a missing template or bad parameters.
    """
    template_path = find_template(template)
    alert_config = None
    if alerts is not None:  # a broken rules file stops the run before anything is created
        from monitorkit.alerts.rules import channel_secrets, load_config

        alert_config = load_config(alerts)
    declared = template_parameters(template_path)
    values = coerce_parameters(declared, dict(parameters or {}))
    missing = [
        p
        for p in declared.values()
        if p.is_required
        and values.get(p.name) in (None, "")
        and (p.required_unless is None or values.get(p.required_unless) in (None, ""))
    ]
    if missing:
        raise ParameterError(
            "missing required parameter(s): "
            + "; ".join(
                f"'{p.name}' ({re.sub(r'^[(][^)]*[)]', '', p.help.lstrip()).strip()}"
                + (f"; or give '{p.required_unless}'" if p.required_unless else "")
                + ")"
                for p in missing
            )
            + "; give each with -p NAME VALUE."
        )
    if model is None:
        model = values.get("model")
    if model is None and "model" in declared:
        model = _literal_default(declared["model"])
    if not model and isinstance(values.get("current"), str) and values["current"]:
        model = _name_from_path(values["current"])
        logger.warning(
            "no model name given: reports go under '%s', named after the current data's file "
            "(pass -p model NAME to choose)",
            model,
        )
    model = model or template_path.stem
    store.check_model_name(model)
    if "model" in declared and "model" not in values:
        values["model"] = model

    folder = store.create_run_folder(out, model)
    started = dt.datetime.now(dt.timezone.utc)
    secrets_given = {name: str(v) for name, v in values.items() if declared[name].is_secret and v}
    plain = {name: v for name, v in values.items() if not declared[name].is_secret}
    redacted = redact_parameters(declared, values)
    # Values scrubbed from every file the run writes: secret parameters and channel secrets.
    secret_values = list(secrets_given.values())
    from monitorkit.database import run_inputs, run_secrets

    secret_values += run_secrets(plain)  # the database URL named by database_url_env
    if alert_config is not None:
        secret_values += channel_secrets(alert_config)

    error: dict[str, Any] | None = None
    notebook = None
    alert_summary: dict[str, Any] | None = None
    with _run_log(folder / store.LOG_NAME, secret_values):
        logger.info("run %s of template %s (model %s)", folder.name, template_path, model)
        logger.info("parameters: %s", json.dumps(redacted, default=str))
        try:
            notebook = _execute(
                template_path,
                folder,
                plain,
                secrets_given,
                [n for n in declared if declared[n].is_secret],
                progress=progress,
                timeout=timeout,
            )
        except KeyboardInterrupt:
            error = {"type": "KeyboardInterrupt", "message": "the run was interrupted"}
            _finish(folder, None, error, secret_values)
            raise
        except Exception as exc:  # any failure of the run is recorded, not lost
            error = _describe_error(exc)
            logger.error("run failed: %s: %s", error["type"], error["message"])
        if alert_config is not None:
            from monitorkit.alerts.run import after_run

            alert_summary = after_run(
                alert_config,
                _published_summary(notebook) if notebook is not None and not error else None,
                folder=folder,
                model=model,
                started=started,
                notebook=notebook,
            )
        notebook = _finish(folder, notebook, error, secret_values)

    finished = dt.datetime.now(dt.timezone.utc)
    published = _published_summary(notebook) if notebook is not None and not error else None
    outcome = run_outcome(published, error)
    if alert_summary is not None:
        from monitorkit.alerts.run import exit_code

        failed = outcome.status == "failed"
        outcome = RunOutcome(
            outcome.status,
            outcome.severity,
            exit_code(outcome.exit_code, failed, alert_summary),
            outcome.error,
        )
    if outcome.error is not None and error is None:
        logger.error("run failed: %s", outcome.error["message"])
    if outcome.error is None and published is None:
        logger.warning("template %s published no summary (publish_summary)", template_path)
    summary = build_summary(
        run_id=folder.name,
        model=model,
        outcome=outcome,
        published=published,
        started=started,
        finished=finished,
        template={"path": str(template_path), "sha256": _sha256(template_path)},
        parameters=redacted,
        inputs={**fingerprint_inputs(plain), **run_inputs(plain)},  # files; SQL queries
        environment={
            "monitorkit": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "working_directory": os.getcwd(),
        },
        git=git_state(Path.cwd()),
        files=sorted(
            {p.name for p in folder.iterdir() if not p.name.startswith(".")} | {store.SUMMARY_NAME}
        ),
    )
    if alert_summary is not None:
        summary["alerts"] = alert_summary
    if prometheus:
        from monitorkit.capture.prometheus import export_run

        summary["prometheus"] = export_run(summary, prometheus)
    # Scrubbed like every other file of the run (delivery errors and URLs are already): its
    # strings, so that a secret that reads like part of a number cannot break the JSON.
    summary = _scrub_strings(summary, [s for s in secret_values if len(s) >= 4])
    store.write_json_atomic(folder / store.SUMMARY_NAME, summary)
    _log_ending(folder / store.LOG_NAME, summary, secret_values)
    store.append_index(folder.parent, index_record(summary))
    return RunResult(
        folder=folder,
        status=outcome.status,
        severity=outcome.severity,
        exit_code=outcome.exit_code,
        summary=summary,
    )


# --------------------------------------------------------------------------------------------
# Bookkeeping after a run: pure functions of what the run left (no kernel, no files)
# --------------------------------------------------------------------------------------------


def redact_parameters(
    declared: Mapping[str, TemplateParameter], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` as recorded in ``summary.json``, ``index.jsonl`` and ``run.log``: each secret
    parameter (:func:`is_secret_name`) that was given a value shows as ``"***"``."""
    return {name: (REDACTED if declared[name].is_secret and v else v) for name, v in values.items()}


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: ``status`` ``"succeeded"`` or ``"failed"``, the published
    ``severity`` (None when failed or nothing was published), the ``exit_code``
    (:data:`EXIT_CODES`) and the ``error`` that made it fail (None when it succeeded)."""

    status: str
    severity: str | None
    exit_code: int
    error: dict[str, Any] | None


def run_outcome(published: Mapping[str, Any] | None, error: Mapping[str, Any] | None) -> RunOutcome:
    """Decide how a run ended from what its notebook published and the error it raised.

    ``published`` is the :func:`summary_payload` read back from the executed notebook (None
    when none was published), ``error`` describes an exception of the run (None when every
    cell ran). A run whose error is set, or whose payload lists reports that could judge
    nothing (``not_judged``, error type ``NothingToJudge``), failed: exit code 1. Otherwise
    the published severity decides: ``ok`` 0, ``warning`` 3, ``critical`` 4; a run that
    published nothing succeeds with severity None and exit code 0.
    """
    if not error and published and published.get("not_judged"):
        # A report that could compare nothing is never healthy: the run fails, saying why.
        error = {"type": "NothingToJudge", "message": "; ".join(published["not_judged"])}
    if error:
        return RunOutcome("failed", None, EXIT_CODES["failed"], dict(error))
    severity = published["severity"] if published else None
    return RunOutcome("succeeded", severity, EXIT_CODES.get(severity or "ok", 0), None)


def build_summary(
    *,
    run_id: str,
    model: str,
    outcome: RunOutcome,
    published: Mapping[str, Any] | None,
    started: dt.datetime,
    finished: dt.datetime,
    template: Mapping[str, Any],
    parameters: Mapping[str, Any],
    inputs: Mapping[str, Mapping[str, Any]],
    environment: Mapping[str, Any],
    git: Any,
    files: list[str],
) -> dict[str, Any]:
    """The content of a run's ``summary.json``.

    ``parameters`` must already be redacted (:func:`redact_parameters`). The verdict and
    figures are the published ones when the run succeeded, None and ``{}`` when it failed.
    """
    failed = outcome.error is not None
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "run_id": run_id,
        "model": model,
        "status": outcome.status,
        "severity": outcome.severity,
        "exit_code": outcome.exit_code,
        "verdict": (published or {}).get("verdict") if not failed else None,
        "figures": (published or {}).get("figures", {}) if not failed else {},
        "error": outcome.error,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        "template": dict(template),
        "parameters": parameters,
        "inputs": dict(inputs),
        "environment": dict(environment),
        "git": git,
        "files": files,
    }


def index_record(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The run's line in ``index.jsonl``, from its summary: the figures ``monitorkit history``
    lists, the input file names (not their paths), the error as ``"Type: message"``, and with
    ``--alerts`` the alerts' severity and the rules firing (``"alerts"``)."""
    error = summary["error"]
    alerts = summary.get("alerts")
    record = {
        "run_id": summary["run_id"],
        "folder": summary["run_id"],
        "started_at": summary["started_at"],
        "duration_s": summary["duration_s"],
        "status": summary["status"],
        "severity": summary["severity"],
        "exit_code": summary["exit_code"],
        "verdict": summary["verdict"],
        "figures": summary["figures"],
        "inputs": {name: _input_name(f) for name, f in summary["inputs"].items()},
        "error": f"{error['type']}: {error['message']}" if error else None,
        "parameters": summary["parameters"],
    }
    if alerts:
        record["alerts"] = {
            "severity": alerts.get("severity"),
            "firing": sorted({a["rule"] for a in alerts.get("firing", [])}),
        }
    return record


def _input_name(fingerprint: Mapping[str, Any]) -> str:
    """A file's name, or for a query (``kind`` ``sql``) its database: ``postgresql:warehouse``."""
    if "path" in fingerprint:
        return Path(fingerprint["path"]).name
    return f"{fingerprint.get('dialect')}:{fingerprint.get('database')}"


def _name_from_path(path: str) -> str:
    """A model name from a data path: the file or folder name without data extensions."""
    name = Path(path.rstrip("/*")).name or "model"
    for suffix in (".gz", ".bz2", ".zst", ".parquet", ".csv", ".tsv", ".jsonl", ".ndjson", ".json"):
        name = name.removesuffix(suffix)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return name or "model"


def _literal_default(parameter: TemplateParameter) -> Any:
    with contextlib.suppress(ValueError, SyntaxError):
        return ast.literal_eval(parameter.default)
    return None


def _execute(
    template_path: Path,
    folder: Path,
    plain: dict[str, Any],
    secrets_given: dict[str, str],
    secret_names: list[str],
    *,
    progress: bool,
    timeout: float | None,
) -> Any:
    """Run the notebook with papermill into ``folder``; returns the executed notebook node."""
    import papermill

    notebook = _read_template(template_path)
    if secret_names:
        _insert_secret_cell(notebook, secret_names)
    partial = folder / store.PARTIAL_NOTEBOOK_NAME
    # Nobody watches a scheduled run: reports show their static view, which exports to HTML.
    environment = {
        **{_SECRET_ENV_PREFIX + k.upper(): v for k, v in secrets_given.items()},
        "MONITORKIT_DISPLAY": "static",
    }
    with _kernel_environment(environment):
        return papermill.execute_notebook(
            notebook,
            str(partial),
            parameters=plain,
            kernel_name="python3",
            progress_bar=progress,
            cwd=os.getcwd(),
            execution_timeout=timeout,
            request_save_on_cell_execute=True,
            # The kernel's own start-up notices ("running over TCP without encryption") go to
            # the terminal the kernel inherits; its errors still reach run.log via papermill.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )


def _insert_secret_cell(notebook: Any, secret_names: list[str]) -> None:
    """Add, after the parameters cell, a cell that reads secrets from the environment."""
    import nbformat

    lines = ["# Secrets come from the environment of the run; their values are never stored."]
    lines.append("from monitorkit.runner import read_secret")
    lines += [f"{name} = read_secret({name!r}) or {name}" for name in secret_names]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-secrets"]})
    index = next(
        (
            i
            for i, c in enumerate(notebook.cells)
            if "parameters" in c.get("metadata", {}).get("tags", [])
        ),
        -1,
    )
    notebook.cells.insert(index + 1, cell)


@contextlib.contextmanager
def _kernel_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel (a child process) during the run."""
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old


def _finish(folder: Path, notebook: Any, error: dict[str, Any] | None, secret_values: Any) -> Any:
    """Write report.ipynb and report.html from the executed or partial notebook."""
    import nbformat

    partial = folder / store.PARTIAL_NOTEBOOK_NAME
    if notebook is None and partial.exists():
        with contextlib.suppress(Exception):
            notebook = nbformat.read(partial, as_version=4)
    if notebook is None:
        # The kernel never started: keep a note of why, as a notebook a person can open.
        notebook = nbformat.v4.new_notebook()
        message = f"**The run failed before any cell ran.**\n\n`{(error or {}).get('message')}`"
        notebook.cells.append(nbformat.v4.new_markdown_cell(message))
    secret_values = [s for s in secret_values if len(s) >= 4]
    text = _scrub(nbformat.writes(notebook), secret_values)
    notebook = nbformat.reads(text, as_version=4)
    store.write_atomic(folder / store.NOTEBOOK_NAME, text)
    sign_notebook(notebook)
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        html = render_html(notebook)
        store.write_atomic(folder / store.HTML_NAME, _scrub(html, secret_values))
    except Exception as exc:  # a report without HTML is still a report; say why
        logger.error("could not render report.html: %s: %s", type(exc).__name__, exc)
        if error is not None:
            error.setdefault("html", f"{type(exc).__name__}: {exc}")
    return notebook


def sign_notebook(notebook: Any) -> bool:
    """Sign ``notebook`` (as written) for the user who ran it: their Jupyter then trusts its
    outputs, as if they had run it in their own JupyterLab.

    This is nbformat's notary: the signature goes to the user's own database
    (``jupyter --data-dir``/``nbsignatures.db``, keyed by the user's secret), never into the
    file, so nobody else's Jupyter trusts it. Nothing depends on it: the report's outputs read
    the same untrusted (:mod:`monitorkit.display.html`). ``MONITORKIT_SIGN_NOTEBOOKS=0`` turns it
    off. Returns whether the notebook was signed; a failure (no writable data folder, sqlite
    unavailable) is logged, never fails the run.
    """
    if os.environ.get("MONITORKIT_SIGN_NOTEBOOKS", "1").strip().lower() in ("0", "false", "no"):
        return False
    try:
        from nbformat.sign import NotebookNotary

        NotebookNotary().sign(notebook)
    except Exception as exc:  # the report is complete without it
        logger.warning("could not sign report.ipynb (%s: %s)", type(exc).__name__, exc)
        return False
    return True


def render_html(notebook: Any) -> str:
    """Render an executed notebook as a static, offline HTML page (code cells hidden)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="monitorkit_report",
        extra_template_basedirs=[str(Path(__file__).parent / "templates" / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    html, _ = exporter.from_notebook_node(_static_outputs(notebook))
    # The page's CSS carries comments with URLs of its sources; drop them so that the page
    # holds no URL at all (it loads nothing either way: see the template's CSP).
    return _STYLE_BLOCK.sub(lambda m: _CSS_COMMENT.sub("", m.group(0)), html)


def _static_outputs(notebook: Any) -> Any:
    """A copy whose outputs drop widget views where a static HTML view is there too.

    Without saved widget state an exported widget view is an empty box; the HTML is the view
    meant for readers without a kernel.
    """
    import copy

    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _WIDGET_MIMETYPE in data and "text/html" in data:
                del data[_WIDGET_MIMETYPE]
    return notebook


def _scrub(text: str, secret_values: list[str]) -> str:
    for value in secret_values:
        text = text.replace(value, REDACTED)
        # Values also appear JSON-escaped inside notebook JSON.
        escaped = json.dumps(value)[1:-1]
        if escaped != value:
            text = text.replace(escaped, REDACTED)
    return text


def _scrub_strings(value: Any, secret_values: list[str]) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string — keys too —
    scrubbed of the secrets; numbers and the structure left as they are."""
    if not secret_values:
        return value
    if isinstance(value, str):
        return _scrub(value, secret_values)
    if isinstance(value, Mapping):
        return {
            _scrub(str(k), secret_values): _scrub_strings(v, secret_values)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_scrub_strings(v, secret_values) for v in value]
    return value


def _describe_error(exc: BaseException) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {
            "type": exc.ename,
            "message": str(exc.evalue),
            "cell_index": exc.cell_index,
            "execution_count": exc.exec_count,
        }
    return {"type": type(exc).__name__, "message": str(exc)}


def _log_ending(path: Path, summary: Mapping[str, Any], secret_values: Any) -> None:
    """The last line of run.log: how the run ended (status, severity, exit code, why)."""
    error = summary.get("error")
    line = (
        f"{dt.datetime.now(dt.timezone.utc).isoformat()} INFO monitorkit.runner: run ended: "
        f"status {summary['status']}, severity {summary['severity'] or '-'}, exit code "
        f"{summary['exit_code']}"
        + (f"; {error['type']}: {error['message']}" if error else "")
        + (f"; verdict: {summary['verdict']}" if summary.get("verdict") else "")
    )
    with open(path, "a", encoding="utf-8") as log:
        log.write(_scrub(line, [s for s in secret_values if len(s) >= 4]) + "\n")


@contextlib.contextmanager
def _run_log(path: Path, secret_values: Any) -> Iterator[None]:
    """Send monitorkit's and papermill's log records of this run to ``run.log``."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter([s for s in secret_values if len(s) >= 4]))
    watched = [logging.getLogger("monitorkit"), logging.getLogger("papermill")]
    old_levels = [lg.level for lg in watched]
    for lg in watched:
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in zip(watched, old_levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


class _RedactingFilter(logging.Filter):
    def __init__(self, secret_values: list[str]) -> None:
        super().__init__()
        self.secret_values = secret_values

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret_values:
            record.msg = _scrub(record.getMessage(), self.secret_values)
            record.args = ()
        return True


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def fingerprint_inputs(parameters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Fingerprints of the parameters that name existing files or folders.

    A file gets its absolute path, size, modification time (UTC ISO 8601) and, up to
    :data:`HASH_LIMIT_BYTES` (256 MiB), its SHA-256. A folder (e.g. a parquet dataset) gets the
    number of files, their total size and the latest modification time; it is not hashed.
    """
    fingerprints = {}
    for name, value in parameters.items():
        if not isinstance(value, str) or not value or len(value) > 4096:
            continue
        path = Path(value)
        try:
            if not path.exists():
                continue
        except OSError:
            continue
        fingerprints[name] = fingerprint_path(path)
    return fingerprints


def fingerprint_path(path: Path) -> dict[str, Any]:
    def mtime(p: Path) -> str:
        return dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc).isoformat()

    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return {
            "path": str(path.resolve()),
            "kind": "directory",
            "files": len(files),
            "size_bytes": sum(p.stat().st_size for p in files),
            "modified_at": max((mtime(p) for p in files), default=mtime(path)),
        }
    size = path.stat().st_size
    return {
        "path": str(path.resolve()),
        "kind": "file",
        "size_bytes": size,
        "modified_at": mtime(path),
        "sha256": _sha256(path) if size <= HASH_LIMIT_BYTES else None,
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
