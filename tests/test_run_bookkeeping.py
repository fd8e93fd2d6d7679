"""What the runner records after a notebook ran — without a kernel, so the quick loop checks it.

The pure pieces (``summary_payload``, ``run_outcome``, ``build_summary``, ``index_record``,
``redact_parameters``) are tested directly; ``run_template`` is then run end to end with the
kernel replaced by a function that returns an executed notebook, so the wiring between them
(and the files written) is checked too. The same paths with a real kernel are in
tests/test_runner.py (marker ``kernel``).
"""

from __future__ import annotations

import datetime as dt
import json

import nbformat
import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit import runner, store
from monitorkit.errors import InputError
from monitorkit.runner import (
    EXIT_CODES,
    REDACTED,
    SUMMARY_MIMETYPE,
    TemplateParameter,
    build_summary,
    index_record,
    redact_parameters,
    run_outcome,
    summary_payload,
)

SECRET = "https://hooks.example.invalid/T000/B000/s3cr3t-XYZ"
STARTED = dt.datetime(2026, 3, 1, 6, 0, 0, tzinfo=dt.timezone.utc)


def _payload(severity: str, **extra) -> dict:
    return {"severity": severity, "verdict": f"{severity} verdict", "figures": {"n": 1}, **extra}


def _summary(outcome, published=None, **changes) -> dict:
    arguments = dict(
        run_id="20260301T060000Z-0123abcd",
        model="churn",
        outcome=outcome,
        published=published,
        started=STARTED,
        finished=STARTED + dt.timedelta(seconds=12.3456),
        template={"path": "/t/monitoring.ipynb", "sha256": "ab" * 32},
        parameters={"current": "/data/today.parquet", "slack_webhook": REDACTED},
        inputs={"current": {"path": "/data/today.parquet", "kind": "file", "size_bytes": 10}},
        environment={"monitorkit": mk.__version__},
        git=None,
        files=["report.html", "summary.json"],
    )
    arguments.update(changes)
    return build_summary(**arguments)


# ---- severity -> exit code --------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "code"), [("ok", 0), ("warning", 3), ("critical", 4)])
def test_the_published_severity_decides_the_exit_code(severity, code):
    """Guards against a changed EXIT_CODES entry or a lookup of the wrong key (e.g. every
    succeeded run exiting 0)."""
    outcome = run_outcome(_payload(severity), None)
    assert (outcome.status, outcome.severity, outcome.exit_code) == ("succeeded", severity, code)
    assert outcome.error is None and EXIT_CODES[severity] == code


def test_exit_codes_tell_every_ending_apart():
    """Guards against two endings sharing a code (a scheduler could not tell them apart)."""
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES) == 4
    assert EXIT_CODES["ok"] == 0 and EXIT_CODES["failed"] == 1
    assert EXIT_CODES["warning"] < EXIT_CODES["critical"]


def test_a_run_that_published_nothing_succeeds_without_a_severity():
    """Guards against a missing summary counting as failed or as some severity."""
    outcome = run_outcome(None, None)
    assert (outcome.status, outcome.severity, outcome.exit_code) == ("succeeded", None, 0)
    summary = _summary(outcome)
    assert summary["verdict"] is None and summary["figures"] == {}


def test_an_error_fails_the_run_whatever_was_published():
    """Guards against an error that still lets the published severity (or its verdict and
    figures) through."""
    error = {"type": "RuntimeError", "message": "upstream table is empty", "cell_index": 2}
    for published in (None, _payload("ok")):
        outcome = run_outcome(published, error)
        assert (outcome.status, outcome.severity, outcome.exit_code) == ("failed", None, 1)
        assert outcome.error == error
        summary = _summary(outcome, published)
        assert summary["verdict"] is None and summary["figures"] == {}
        assert summary["error"] == error


def test_a_report_that_could_judge_nothing_fails_the_run_with_exit_1():
    """Guards against a run of an uncomparable report exiting 4 (critical) or 0: it failed."""
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=300, seed=1)
    renamed = cur.rename(columns={c: c.upper() for c in cur.columns})
    drift = mk.DriftReport(ref, renamed, multivariate=False)
    payload = summary_payload(drift)
    assert payload["severity"] == "critical" and payload["not_judged"]
    outcome = run_outcome(payload, None)
    assert (outcome.status, outcome.severity, outcome.exit_code) == ("failed", None, 1)
    assert outcome.error["type"] == "NothingToJudge"
    assert drift.not_judged in outcome.error["message"]
    record = index_record(_summary(outcome, payload))
    assert record["error"].startswith("NothingToJudge: ") and record["exit_code"] == 1


def test_every_unjudged_report_is_named_in_the_failure():
    """Guards against keeping only the first (or last) reason."""
    payload = _payload("critical", not_judged=["Drift: no rows", "Quality: no columns"])
    outcome = run_outcome(payload, None)
    assert outcome.error["message"] == "Drift: no rows; Quality: no columns"


# ---- the payload publish_summary attaches -----------------------------------------------------


def _drift(shift: float, n: int = 2_000, seed: int = 0) -> mk.DriftReport:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({"x": rng.normal(0, 1, n), "c": rng.choice(["a", "b"], n)})
    current = pd.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.choice(["a", "b"], n)})
    return mk.DriftReport(reference, current, multivariate=False)


def test_the_payload_takes_the_worst_severity_and_its_reports_verdicts():
    """Guards against the best (or the first) report's severity deciding the run."""
    quiet, moved = _drift(0.0), _drift(1.0)
    assert (quiet.severity, moved.severity) == ("ok", "critical")
    for order in ((quiet, moved), (moved, quiet)):
        payload = summary_payload(*order)
        assert payload["severity"] == "critical"
        assert payload["verdict"] == moved.verdict
        assert payload["not_judged"] == []
    overview = mk.DataOverview.from_frames(*_frames())
    payload = summary_payload(quiet, overview, figures={"extra": 2})
    assert payload["verdict"] == "; ".join(
        r.verdict for r in (quiet, overview) if r.severity == payload["severity"]
    )
    assert payload["figures"]["extra"] == 2
    assert payload["figures"]["drift.share_drifted"] == quiet.figures["share_drifted"]
    assert {k.split(".")[0] for k in payload["figures"]} == {"drift", "data_overview", "extra"}


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame({"x": np.arange(50.0), "c": ["a", "b"] * 25})
    return frame, frame.iloc[::-1].reset_index(drop=True)


def test_an_explicit_severity_and_verdict_override_the_reports():
    """Guards against ignoring the template author's explicit verdict."""
    payload = summary_payload(_drift(1.0), severity="warning", verdict="known shift")
    assert (payload["severity"], payload["verdict"]) == ("warning", "known shift")
    positional = summary_payload("warning", "checked", {"drifted": 2})
    assert positional == {
        "severity": "warning",
        "verdict": "checked",
        "figures": {"drifted": 2},
        "not_judged": [],
    }


def test_a_payload_without_reports_needs_a_severity_and_a_verdict():
    with pytest.raises(InputError, match="needs reports or a severity"):
        summary_payload(verdict="v")
    with pytest.raises(InputError, match="needs reports or a verdict"):
        summary_payload(severity="ok")
    with pytest.raises(ValueError):
        summary_payload(severity="sunny", verdict="v")


def test_the_runner_reads_the_last_published_payload():
    """Guards against reading the first payload when a template publishes twice."""
    notebook = _executed_notebook([_payload("ok"), _payload("critical")])
    assert runner._published_summary(notebook)["severity"] == "critical"
    assert runner._published_summary(_executed_notebook([])) is None


# ---- redaction ----------------------------------------------------------------------------------


def _declared(*names: str) -> dict[str, TemplateParameter]:
    return {n: TemplateParameter(name=n, type_name="str", default='""', help="") for n in names}


def test_secret_parameters_are_redacted_in_summary_and_index():
    """Guards against a secret value reaching summary.json or index.jsonl (e.g. the index
    built from the raw parameters instead of the redacted ones)."""
    declared = _declared("current", "slack_webhook", "api_token", "db_password", "empty_key")
    values = {
        "current": "/data/today.parquet",
        "slack_webhook": SECRET,
        "api_token": "tok-123456",
        "db_password": "hunter22",
        "empty_key": "",
    }
    redacted = redact_parameters(declared, values)
    assert redacted == {
        "current": "/data/today.parquet",
        "slack_webhook": REDACTED,
        "api_token": REDACTED,
        "db_password": REDACTED,
        "empty_key": "",  # nothing given: nothing to hide, and the reader sees it was empty
    }
    summary = _summary(run_outcome(_payload("ok"), None), _payload("ok"), parameters=redacted)
    record = index_record(summary)
    for text in (json.dumps(summary), json.dumps(record)):
        for secret in (SECRET, "tok-123456", "hunter22"):
            assert secret not in text
    assert record["parameters"] == summary["parameters"] == redacted


def test_the_last_line_of_run_log_is_redacted(tmp_path):
    """Guards against writing the run's ending (its error message) unscrubbed."""
    outcome = run_outcome(None, {"type": "HTTPError", "message": f"POST {SECRET} failed"})
    summary = _summary(outcome)
    log = tmp_path / store.LOG_NAME
    runner._log_ending(log, summary, [SECRET])
    line = log.read_text()
    assert SECRET not in line and "s3cr3t" not in line
    assert "status failed, severity -, exit code 1; HTTPError: POST *** failed" in line


# ---- the index record ----------------------------------------------------------------------------


def test_the_index_record_is_the_summary_in_brief():
    """Guards against the index disagreeing with summary.json (status, severity, exit code,
    verdict, figures) or holding full input paths."""
    published = _payload("warning")
    summary = _summary(run_outcome(published, None), published)
    record = index_record(summary)
    for key in ("run_id", "started_at", "duration_s", "status", "severity", "exit_code"):
        assert record[key] == summary[key], key
    assert record["folder"] == summary["run_id"]
    assert (record["verdict"], record["figures"]) == (published["verdict"], published["figures"])
    assert record["inputs"] == {"current": "today.parquet"}
    assert record["error"] is None
    assert summary["duration_s"] == 12.346
    assert summary["finished_at"] > summary["started_at"]
    assert (summary["exit_code"], summary["severity"]) == (3, "warning")


# ---- run_template end to end, the kernel replaced ------------------------------------------------


def _executed_notebook(payloads: list[dict], printed: str = "") -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("# A check"))  # a cell without outputs
    cell = nbformat.v4.new_code_cell("publish_summary(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)] + [
        nbformat.v4.new_output(
            "display_data", data={SUMMARY_MIMETYPE: p, "text/plain": p["verdict"]}
        )
        for p in payloads
    ]
    notebook.cells.append(cell)
    return notebook


@pytest.fixture
def fake_kernel(monkeypatch):
    """Replace the kernel: ``_execute`` returns a notebook that published ``payload`` and
    printed every parameter value (secrets included, read back from the run's environment)."""
    state: dict = {}

    def execute(template_path, folder, plain, secrets_given, secret_names, **_):
        state["secret_names"] = secret_names
        printed = " ".join(map(str, [*plain.values(), *secrets_given.values()]))
        payloads = [] if state.get("payload") is None else [state["payload"]]
        return _executed_notebook(payloads, printed=f"leaked: {printed}\n")

    monkeypatch.setattr(runner, "_execute", execute)
    return state


def _template(make_template):
    return make_template(
        "check.ipynb",
        'model: str = "churn"  # the model\n'
        'current: str = ""  # the data\n'
        'slack_webhook: str = ""  # where alerts go',
    )


@pytest.mark.parametrize("severity", ["ok", "warning", "critical"])
def test_a_run_records_its_severity_and_exit_code_everywhere(
    in_tmp, make_template, fake_kernel, severity
):
    """Guards against summary.json, index.jsonl and the returned result disagreeing."""
    fake_kernel["payload"] = _payload(severity)
    result = runner.run_template(_template(make_template), {}, progress=False)
    code = EXIT_CODES[severity]
    assert (result.status, result.severity, result.exit_code) == ("succeeded", severity, code)
    summary = store.read_summary(result.folder)
    (record,) = store.read_index(result.folder.parent)
    for recorded in (summary, record, result.summary):
        assert (recorded["status"], recorded["severity"], recorded["exit_code"]) == (
            "succeeded",
            severity,
            code,
        )
    assert summary["verdict"] == record["verdict"] == f"{severity} verdict"
    assert (
        (result.folder / store.LOG_NAME)
        .read_text()
        .splitlines()[-1]
        .endswith(f"exit code {code}; verdict: {severity} verdict")
    )


def test_a_run_that_could_judge_nothing_exits_1(in_tmp, make_template, fake_kernel):
    fake_kernel["payload"] = _payload("critical", not_judged=["Drift: no column in common"])
    result = runner.run_template(_template(make_template), {}, progress=False)
    assert (result.status, result.severity, result.exit_code) == ("failed", None, 1)
    (record,) = store.read_index(result.folder.parent)
    assert record["exit_code"] == 1 and record["error"].startswith("NothingToJudge")
    assert store.read_summary(result.folder)["error"]["type"] == "NothingToJudge"


def test_a_secret_given_to_a_run_reaches_no_file(in_tmp, make_template, fake_kernel, tmp_path):
    """Guards against the secret reaching summary.json, index.jsonl, run.log, the notebook or
    the HTML (parameters unredacted, or the notebook text not scrubbed)."""
    fake_kernel["payload"] = _payload("ok")
    data = tmp_path / "today.csv"
    data.write_text("x\n1\n")
    result = runner.run_template(
        _template(make_template),
        {"current": str(data), "slack_webhook": SECRET},
        progress=False,
    )
    assert result.status == "succeeded" and fake_kernel["secret_names"] == ["slack_webhook"]
    assert result.summary["parameters"]["slack_webhook"] == REDACTED
    files = [p for p in (in_tmp / "reports").rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"summary.json", "index.jsonl", "run.log", "report.ipynb", "report.html"} <= names
    for path in files:
        content = path.read_bytes()
        assert b"s3cr3t" not in content, path
    notebook = (result.folder / store.NOTEBOOK_NAME).read_text()
    assert "leaked: " in notebook and REDACTED in notebook  # it was printed, then scrubbed
    (record,) = store.read_index(result.folder.parent)
    assert record["inputs"] == {"current": "today.csv"}
    assert record["parameters"]["slack_webhook"] == REDACTED


# ---- what mutation testing found untested (docs/TESTING.md) ----------------------------------


def test_an_explicit_severity_no_report_has_takes_every_reports_verdict():
    """Guards against the verdict falling back to nothing when no report is at the severity
    the template chose."""
    quiet = _drift(0.0)
    payload = summary_payload(quiet, severity="critical")
    assert (payload["severity"], payload["verdict"]) == ("critical", quiet.verdict)


def test_figures_json_cannot_hold_are_published_as_strings():
    """Guards against dropping ``default=str``: a date-time figure would break the publish."""
    when = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    payload = summary_payload(severity="ok", verdict="v", figures={"since": when, "n": 3})
    assert payload["figures"] == {"since": str(when), "n": 3}


def test_the_summary_holds_every_documented_field():
    """Guards against a renamed or missing key in summary.json (readers and `monitorkit
    history` look them up by name)."""
    published = _payload("ok")
    summary = _summary(run_outcome(published, None), published, git={"commit": "abc"})
    assert set(summary) == {
        "schema_version",
        "run_id",
        "model",
        "status",
        "severity",
        "exit_code",
        "verdict",
        "figures",
        "error",
        "started_at",
        "finished_at",
        "duration_s",
        "template",
        "parameters",
        "inputs",
        "environment",
        "git",
        "files",
    }
    assert summary["schema_version"] == runner.SUMMARY_SCHEMA_VERSION
    assert (summary["model"], summary["git"]) == ("churn", {"commit": "abc"})
    assert summary["template"]["sha256"] == "ab" * 32
    assert summary["environment"] == {"monitorkit": mk.__version__}
    assert summary["files"] == ["report.html", "summary.json"]


@pytest.mark.parametrize("secret", ['pa"ss\\word', "päss-wörd", "tab\there"])
def test_a_secret_is_scrubbed_also_where_json_escapes_it(secret):
    """Guards against scrubbing only the raw value: inside notebook JSON a secret with quotes,
    backslashes, tabs or non-ASCII letters appears escaped."""
    text = json.dumps({"outputs": [f"printed {secret}"]}) + f" and raw {secret}"
    scrubbed = runner._scrub(text, [secret])
    assert scrubbed == json.dumps({"outputs": [f"printed {REDACTED}"]}) + f" and raw {REDACTED}"


def test_the_last_line_of_run_log_is_a_utc_time_and_only_what_happened(tmp_path):
    """Guards against a local-time stamp, a "verdict: None" tail on a failed run, and a
    four-character secret left in clear (four characters is the shortest scrubbed)."""
    outcome = run_outcome(None, {"type": "AuthError", "message": "token abcd refused"})
    log = tmp_path / store.LOG_NAME
    runner._log_ending(log, _summary(outcome), ["abcd", "xyz"])
    line = log.read_text()
    stamp = dt.datetime.fromisoformat(line.split(" ", 1)[0])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert line.endswith("exit code 1; AuthError: token *** refused\n")
