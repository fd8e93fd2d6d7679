"""The ``monitorkit`` command.

Exit codes of ``run`` and ``drift`` (``demo`` exits 0 once its report is written):
0 healthy · 3 warnings · 4 critical · 1 the run failed · 2 bad usage. ``validate``: 0 clean,
3 problems found, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitorkit import store
from monitorkit._version import __version__
from monitorkit.errors import MonitorkitError, ParameterError, TemplateError

EXIT_USAGE = 2
EXIT_FAILED = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="monitorkit: %(levelname)s: %(message)s")
    # A run raises monitorkit's and papermill's loggers to INFO for its run.log; the terminal
    # shows warnings and errors only (the progress bar shows the rest).
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    try:
        return args.handler(args)
    except (ParameterError, TemplateError) as exc:
        print(f"monitorkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MonitorkitError as exc:
        print(f"monitorkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED
    except KeyboardInterrupt:
        print("monitorkit: interrupted", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitorkit",
        description="Monitor machine-learning models: drift, data quality, performance.",
        epilog="Exit codes of run: 0 healthy, 3 warnings, 4 critical, 1 run failed, 2 bad usage.",
    )
    parser.add_argument("--version", action="version", version=f"monitorkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the monitoring template on a bundled scenario; the report lands in --out",
        description="Generate a bundled scenario (reference and current data with a known "
        "change), run the monitoring template on it, and print the report's path.",
    )
    demo.add_argument("--scenario", default="seasonal_retail", help="scenario name")
    demo.add_argument("--rows", type=int, default=20_000, help="rows of current data")
    demo.add_argument("--seed", type=int, default=0, help="random seed of the scenario")
    demo.add_argument("--out", default="reports", help="report store folder (default: reports)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.add_argument("--alerts", metavar="FILE", help=_ALERTS_HELP + "; demo then exits like run")
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run",
        help="execute a template notebook with parameters into a versioned report folder",
        description="Execute TEMPLATE (a shipped template name such as 'monitoring', or a path "
        "to a notebook) with papermill and write reports/<model>/<run id>/.",
    )
    run.add_argument("template", help="template name or path to a .ipynb")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a template parameter (repeatable); the value is parsed for the declared type",
    )
    run.add_argument("--model", help="model name (default: the 'model' parameter)")
    run.add_argument("--out", default="reports", help="report store folder (default: reports)")
    run.add_argument("--timeout", type=float, help="seconds a single cell may run")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument("--alerts", metavar="FILE", help=_ALERTS_HELP)
    run.add_argument(
        "--pushgateway",
        metavar="URL",
        help="push the run's gauges to this Prometheus Pushgateway (e.g. http://localhost:9091)",
    )
    run.add_argument(
        "--textfile-dir",
        metavar="DIR",
        help="write the run's gauges to DIR/monitorkit_<model>.prom (node exporter textfile "
        "collector)",
    )
    run.set_defaults(handler=_run)

    alerts = commands.add_parser(
        "alerts",
        help="alerting: send a test message to every channel of an alerts file",
        description="Tools for the alert rules file of `run --alerts` (docs/ALERTING.md).",
    )
    alerts_commands = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    alerts_test = alerts_commands.add_parser(
        "test",
        help="send a test message to each channel of FILE",
        description="Validate FILE and send a test message to each of its channels (or those "
        "given with --channel). Exits 0 when every message was delivered, 1 otherwise, 2 when "
        "the file is invalid.",
    )
    alerts_test.add_argument("--alerts", metavar="FILE", required=True, help="alert rules file")
    alerts_test.add_argument("--channel", action="append", help="only this channel (repeatable)")
    alerts_test.add_argument("--model", default="monitorkit-test", help="model name shown")
    alerts_test.set_defaults(handler=_alerts_test)

    baseline = commands.add_parser(
        "baseline",
        help="capture a model's baseline (profiles, metrics, latency) from training data",
        description="Profile DATA (parquet file or directory, CSV, JSON lines) and write the "
        "baseline JSON that later runs compare production data with. No raw rows are stored "
        "unless --sample-rows is given.",
    )
    baseline.add_argument("data", help="training or validation data (or 'sql:select …')")
    baseline.add_argument("-o", "--output", required=True, help="baseline JSON file to write")
    baseline.add_argument("--model", default="model", help="model name")
    _sql_arguments(baseline)
    baseline.add_argument("--model-version", help="model version")
    for role in ("target", "prediction", "prediction-label", "timestamp", "id"):
        baseline.add_argument(f"--{role}", help=f"the {role.replace('-', ' ')} column")
    baseline.add_argument("--categorical", default="", help="comma-separated categorical columns")
    baseline.add_argument("--numerical", default="", help="comma-separated numeric columns")
    baseline.add_argument("--latency", help="latency column in ms (default: latency_ms)")
    baseline.add_argument("--sample-rows", type=int, help="keep a random sample of N rows")
    baseline.add_argument(
        "--hash-categories", action="store_true", help="store categorical values hashed"
    )
    baseline.set_defaults(handler=_baseline)

    history = commands.add_parser(
        "history",
        help="list past runs of a model, or one line per model",
        description="With a model folder (reports/<model>), list its runs; with the store's "
        "root folder (default: reports), one line per model.",
    )
    history.add_argument(
        "path",
        nargs="?",
        default=None,
        help="a model name, a model folder (reports/<model>), or a store (default: --out)",
    )
    history.add_argument("--out", default="reports", help="report store folder (default: reports)")
    history.add_argument("--limit", type=int, default=20, help="show the last N runs")
    history.add_argument(
        "--html", metavar="FILE", help="also write the history (trends, statuses) as a page"
    )
    history.add_argument(
        "--overwrite", action="store_true", help="replace the --html page if it exists"
    )
    history.set_defaults(handler=_history)

    drift = commands.add_parser(
        "drift",
        help="the quickest check: compare CURRENT with REFERENCE and print the drift report",
        description="Compare CURRENT with REFERENCE (data files, folders or globs; REFERENCE may "
        "also be a baseline JSON written by `monitorkit baseline`) without a notebook. Exits like "
        "run: 0 healthy, 3 warnings, 4 critical, 1 nothing could be compared, 2 bad usage.",
    )
    drift.add_argument("reference", help="reference data, a baseline .json, or 'sql:select …'")
    drift.add_argument("current", help="current (production) data, or 'sql:select …'")
    _sql_arguments(drift)
    drift.add_argument("--by", help="windows over the timestamp ('1D', '1W') or a chunk count")
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    drift.add_argument("--html", help="also write the static report to this file")
    for role in ("target", "prediction", "timestamp", "id"):
        drift.add_argument(f"--{role}", help=f"the {role} column (inferred when not given)")
    drift.set_defaults(handler=_drift)

    validate = commands.add_parser(
        "validate",
        help="check every row of DATA against a baseline and rules; list the offending rows",
        description="Check each row of DATA (any file read_frame reads) against BASELINE (a "
        "baseline JSON written by `monitorkit baseline`) and the rules: required columns, "
        "missing values, text in numeric columns, infinities, values outside the training "
        "range, unseen categories, broken rules. Prints counts per column and check and the "
        "first offending rows. Exits 0 when nothing is wrong, 3 when problems are found, "
        "1 on failure, 2 on bad usage.",
    )
    validate.add_argument("baseline", help="baseline .json written by `monitorkit baseline`")
    validate.add_argument(
        "data", help="the rows to check (parquet, CSV, JSON lines, folder, glob, 'sql:select …')"
    )
    _sql_arguments(validate)
    validate.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="RULES",
        help="a TOML file of [[rule]] tables, or one rule ('age between 0 and 120'); repeatable",
    )
    validate.add_argument("--json", action="store_true", help="print the result as JSON")
    validate.add_argument(
        "--limit", type=int, default=10, help="show the findings of the first N offending rows"
    )
    validate.set_defaults(handler=_validate)
    return parser


def _sql_arguments(command: argparse.ArgumentParser) -> None:
    """``--database-url-env`` and ``--param`` for data arguments written ``sql:<query>``."""
    command.add_argument(
        "--database-url-env",
        metavar="NAME",
        help="environment variable holding the database URL, for data given as 'sql:<query>' "
        "(the URL never lands in any output)",
    )
    command.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value bound to :NAME in the queries (repeatable; start/end as ISO 8601)",
    )


def _data(args: argparse.Namespace, value: str, name: str) -> Any:
    """A data argument: a path as it is, or ``sql:<query>`` as a :func:`monitorkit.sql` source
    on the database of ``--database-url-env`` with the ``--param`` values bound."""
    if not value.lower().startswith("sql:"):
        return value
    from monitorkit.database import template_source

    if not args.database_url_env:
        raise ParameterError(
            f"{name} {value[:40]!r}… is a query: give --database-url-env NAME, the environment "
            "variable that holds the database URL."
        )
    params = {}
    for item in args.param:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"--param {item!r}: write NAME=VALUE, e.g. --param start=2026-11-01."
            )
        params[key.strip()] = text
    return template_source(name, None, value[4:].strip(), args.database_url_env, params)


_ALERTS_HELP = (
    "alert rules file (TOML, docs/ALERTING.md): evaluated after the run, notifications sent; "
    "the exit code follows the highest severity of the firing alerts"
)


def _alerts_test(args: argparse.Namespace) -> int:
    from monitorkit.alerts.run import send_test

    results = send_test(args.alerts, model=args.model, channels=args.channel)
    if not results:
        print(f"no channels in {args.alerts}", file=sys.stderr)
        return EXIT_FAILED
    for name, kind, attempted in results:
        if attempted.delivered:
            print(f"delivered  {name} ({kind}) after {attempted.attempts} attempt(s)")
        else:
            print(
                f"FAILED     {name} ({kind}) after {attempted.attempts} attempt(s): "
                f"{attempted.error}"
            )
    return 0 if all(a.delivered for _, _, a in results) else EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    from monitorkit.runner import run_template

    parameters: dict[str, str] = {}
    for name, value in args.parameter:
        if name in parameters:
            raise ParameterError(f"parameter '{name}' is given twice; give it once.")
        parameters[name] = value
    result = run_template(
        args.template,
        parameters,
        model=args.model,
        out=args.out,
        progress=not args.no_progress,
        timeout=args.timeout,
        alerts=args.alerts,
        prometheus={"pushgateway": args.pushgateway, "textfile": args.textfile_dir}
        if args.pushgateway or args.textfile_dir
        else None,
    )
    _print_result(result)
    return result.exit_code


def _demo(args: argparse.Namespace) -> int:
    from monitorkit.datasets import write_scenario
    from monitorkit.runner import run_template

    model = f"demo-{args.scenario}"
    data_dir = Path(args.out) / model / "data"
    paths = write_scenario(args.scenario, data_dir, n_rows=args.rows, seed=args.seed)
    truth = json.loads(Path(paths["truth"]).read_text(encoding="utf-8"))
    result = run_template(
        "monitoring",
        {
            "model": model,
            "reference": str(paths["reference"]),
            "current": str(paths["current"]),
            "drift_by": "1W",
            "business": truth.get("business", {}),
            "segments": truth.get("segments", []),
            "sensitive": truth.get("sensitive", []),
        },
        model=model,
        out=args.out,
        progress=not args.no_progress,
        alerts=args.alerts,
    )
    _print_result(result)
    if args.alerts:
        return result.exit_code
    return EXIT_FAILED if result.status == "failed" else 0


def _print_result(result) -> None:
    if result.status == "failed":
        error = result.summary.get("error") or {}
        print(
            f"run FAILED: {error.get('type')}: {error.get('message')}\n"
            f"partial report kept in {result.folder}",
            file=sys.stderr,
        )
        return
    severity = (result.severity or "unknown").upper()
    print(f"{severity}: {result.summary.get('verdict') or ''}".rstrip())
    alerts = result.summary.get("alerts")
    if alerts:
        # Delivery failures and rule errors are logged (stderr) as they happen.
        print(f"alerts {alerts['severity'].upper()}: {alerts['verdict']}")
    print(f"report: {result.html}")


def _baseline(args: argparse.Namespace) -> int:
    from monitorkit.baseline import Baseline
    from monitorkit.schema import ColumnSpec

    output = Path(args.output)
    if output.exists():
        raise ParameterError(f"{output} exists; a baseline is never overwritten — pick a new name.")

    def names(text: str) -> list[str]:
        return [name.strip() for name in text.split(",") if name.strip()]

    spec = ColumnSpec(
        target=args.target,
        prediction=args.prediction,
        prediction_label=args.prediction_label,
        timestamp=args.timestamp,
        id=args.id,
        categorical=names(args.categorical),
        numerical=names(args.numerical),
    )
    baseline = Baseline.from_frame(
        _data(args, args.data, "data"),
        spec,
        model=args.model,
        model_version=args.model_version,
        latency=args.latency,
        sample_rows=args.sample_rows,
        hash_categories=args.hash_categories,
    )
    path = baseline.save(output)
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in baseline.metrics.items() if k != "rows")
    print(
        f"baseline of {baseline.profile.rows:,} rows, {len(baseline.profile.columns)} columns"
        + (f"; {metrics}" if metrics else "")
    )
    print(f"written: {path}")
    return 0


def _drift(args: argparse.Namespace) -> int:
    from monitorkit.drift import DriftReport
    from monitorkit.report import load_report
    from monitorkit.runner import EXIT_CODES
    from monitorkit.schema import ColumnSpec

    reference = _data(args, args.reference, "reference")
    if isinstance(reference, str) and reference.endswith(".json"):
        reference = load_report(reference)  # a baseline or profile file
    by = int(args.by) if args.by and args.by.isdigit() else args.by
    spec = ColumnSpec(
        target=args.target, prediction=args.prediction, timestamp=args.timestamp, id=args.id
    )
    report = DriftReport(reference, _data(args, args.current, "current"), spec=spec, by=by)
    print(report.to_json(indent=2) if args.json else report)
    if args.html:
        print(f"report: {report.save_html(args.html)}", file=sys.stderr)
    if report.not_judged:
        print(f"monitorkit: error: {report.not_judged}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_CODES[report.severity]


def _validate(args: argparse.Namespace) -> int:
    import json

    from monitorkit.baseline import Baseline
    from monitorkit.quality.rules import parse_rules
    from monitorkit.quality.validator import summarize
    from monitorkit.schema import read_frame

    if args.limit < 0:
        raise ParameterError(f"--limit must be 0 or more; got {args.limit}.")
    baseline = Baseline.load(args.baseline)
    rules = [rule for item in args.rules for rule in parse_rules(item)]
    validator = baseline.validator(rules)
    frame = read_frame(_data(args, args.data, "data"), name="data")
    findings = validator.validate(frame)
    summary = summarize(findings, rows=len(frame))
    offending = findings["row"].dropna().unique()
    # The findings of the first --limit offending rows, and those about the whole batch.
    shown = findings[findings["row"].isna() | findings["row"].isin(offending[: args.limit])]
    if args.json:
        result = {
            "baseline": args.baseline,
            "data": args.data,
            "rows": len(frame),
            "columns_checked": len(validator.columns),
            "findings": len(findings),
            "offending_rows": len(offending),
            "summary": _records(summary),
            "first": _records(shown),
        }
        print(json.dumps(result, indent=2))
    else:
        print(_validation_text(len(frame), validator, findings, summary, offending, shown))
    return 3 if len(findings) else 0


def _records(frame) -> list[dict]:
    """Rows of a small frame as JSON-ready dicts (missing values as None, numbers as int)."""
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def _plain(value):
    if value is None or type(value).__name__ == "NAType" or value != value:
        return None
    return int(value) if hasattr(value, "__index__") else value


def _validation_text(rows: int, validator, findings, summary, offending, shown) -> str:
    columns = len(validator.columns)
    if findings.empty:
        return f"OK: no problems in {rows:,} rows ({columns} columns checked against the baseline)"
    lines = [
        f"PROBLEMS: {len(findings):,} findings in {summary['column'].nunique()} columns; "
        f"{len(offending):,} of {rows:,} rows offend ({columns} columns checked against the "
        "baseline)",
        "",
        _table(summary, ["column", "check", "rows", "message"]),
    ]
    if len(shown):
        shown_rows = shown["row"].nunique()
        what = f"the first {shown_rows} offending rows" if shown_rows else "the whole batch"
        lines += ["", f"findings of {what}:", ""]
        lines.append(_table(shown, ["row", "column", "check", "value", "message"]))
    return "\n".join(lines)


def _table(frame, columns: list[str]) -> str:
    """A plain text table: numbers right-aligned, missing as '-', cells cut to 60 characters."""

    def cell(value) -> str:
        value = _plain(value)
        if value is None:
            return "-"
        text = f"{value:,}" if isinstance(value, int) else str(value)
        return text if len(text) <= 60 else text[:59] + "…"

    body = [[cell(v) for v in row] for row in frame[columns].astype(object).itertuples(False)]
    widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(columns)]
    right = [c in ("row", "rows") for c in columns]

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)
        ).rstrip()

    return "\n".join([line(columns)] + [line(r) for r in body])


def _history(args: argparse.Namespace) -> int:
    from monitorkit.history import format_model_history, format_store_overview

    given = args.path if args.path is not None else args.out
    path = Path(given)
    if not path.exists() and (Path(args.out) / given / store.INDEX_NAME).is_file():
        path = Path(args.out) / given  # a model name
    if (path / store.INDEX_NAME).is_file():
        print(format_model_history(path, limit=args.limit))
    elif path.is_dir():
        print(format_store_overview(path))
    else:
        path = None
    if path is not None:
        if args.html:
            from monitorkit.history import History

            try:
                page = History(path).save_html(args.html, overwrite=args.overwrite)
            except FileExistsError:
                print(
                    f"monitorkit: error: {args.html} exists and is kept; pass --overwrite to "
                    "replace it, or another --html path.",
                    file=sys.stderr,
                )
                return 2
            print(f"page: {page}", file=sys.stderr)
        return 0
    path = Path(given)
    print(
        f"monitorkit: error: {path} is neither a report store nor a model folder "
        f"(no {store.INDEX_NAME}); run `monitorkit demo` to create one.",
        file=sys.stderr,
    )
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
