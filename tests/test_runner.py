"""The papermill runner and the report folders it writes — with a real kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from monitorkit import store
from monitorkit.errors import ParameterError, TemplateError
from monitorkit.runner import (
    coerce_parameters,
    run_template,
    template_parameters,
)

PUBLISH = (
    "from monitorkit.runner import publish_summary\n"
    "publish_summary(severity=severity, verdict='checked', figures={{'n': n}})"
)


@pytest.mark.kernel
def test_monitoring_template_writes_a_complete_report_folder(in_tmp, data_files):
    result = run_template(
        "monitoring",
        {
            "model": "churn",
            "reference": str(data_files["reference"]),
            "current": str(data_files["current"]),
        },
        progress=False,
    )
    assert result.status == "succeeded" and result.exit_code == 0
    assert result.folder.parent == in_tmp / "reports" / "churn"
    assert store.is_run_id(result.folder.name)
    names = {p.name for p in result.folder.iterdir()}
    assert {"report.ipynb", "report.html", "summary.json", "run.log"} <= names
    assert not any(n.endswith(".tmp") or "partial" in n for n in names)

    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["status"] == "succeeded" and summary["severity"] == "ok"
    figures = summary["figures"]
    overview = (
        figures["data_overview.reference_rows"],
        figures["data_overview.current_rows"],
        figures["data_overview.columns"],
    )
    assert overview == (600, 400, 7)
    assert figures["drift.drifted_columns"] == 0 and figures["drift.tested_columns"] == 5
    assert summary["inputs"]["reference"]["sha256"]
    assert summary["inputs"]["current"]["size_bytes"] == data_files["current"].stat().st_size
    assert summary["environment"]["monitorkit"]
    assert "summary.json" in summary["files"]

    notebook = nbformat.read(result.notebook, as_version=4)
    errors = [
        o for c in notebook.cells for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert errors == []
    html = result.html.read_text()
    assert "Data overview" in html and "request_id" in html
    assert "http://" not in html.replace("http-equiv", "") and "https://" not in html

    index = store.read_index(result.folder.parent)
    assert [r["run_id"] for r in index] == [result.folder.name]


@pytest.mark.kernel
def test_second_run_gets_a_new_folder_and_leaves_the_first_untouched(in_tmp, data_files, snapshot):
    parameters = {"reference": str(data_files["reference"]), "current": str(data_files["current"])}
    first = run_template("monitoring", parameters, model="m", progress=False)
    before = snapshot(first.folder)
    second = run_template("monitoring", parameters, model="m", progress=False)
    assert second.folder != first.folder
    assert snapshot(first.folder) == before
    assert len(store.read_index(in_tmp / "reports" / "m")) == 2


@pytest.mark.kernel
def test_concurrent_runs_both_succeed(in_tmp, data_files):
    command = [
        sys.executable,
        "-m",
        "monitorkit.cli",
        "run",
        "monitoring",
        "--model",
        "c",
        "--no-progress",
        "-p",
        "reference",
        str(data_files["reference"]),
        "-p",
        "current",
        str(data_files["current"]),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    folders = sorted((in_tmp / "reports" / "c").glob("2*"))
    assert len(folders) == 2
    index = store.read_index(in_tmp / "reports" / "c")
    assert sorted(r["run_id"] for r in index) == [f.name for f in folders]


@pytest.mark.kernel
def test_failing_template_keeps_partial_notebook_and_error(in_tmp, make_template):
    template = make_template(
        "boom.ipynb",
        "n: int = 1  # a number",
        "first = n + 1",
        "raise RuntimeError('upstream table is empty')",
        "never = True",
    )
    result = run_template(template, {"n": "5"}, model="boom", progress=False)
    assert result.status == "failed" and result.exit_code == 1
    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["error"]["type"] == "RuntimeError"
    assert "upstream table is empty" in summary["error"]["message"]
    notebook = nbformat.read(result.notebook, as_version=4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert any(o.get("ename") == "RuntimeError" for o in outputs)
    assert (result.folder / "report.html").exists()
    assert "run failed" in (result.folder / "run.log").read_text()
    assert store.read_index(result.folder.parent)[-1]["status"] == "failed"


@pytest.mark.kernel
@pytest.mark.parametrize(("severity", "code"), [("ok", 0), ("warning", 3), ("critical", 4)])
def test_published_severity_sets_the_exit_code(in_tmp, make_template, severity, code):
    template = make_template(
        f"{severity}.ipynb",
        'severity: str = "ok"  # the verdict\nn: int = 0  # a figure',
        PUBLISH.format(),
    )
    result = run_template(template, {"severity": severity, "n": 3}, progress=False)
    assert (result.severity, result.exit_code) == (severity, code)
    assert result.summary["figures"] == {"n": 3}
    assert result.folder.parent.name == template.stem


@pytest.mark.kernel
def test_secret_parameter_never_reaches_a_file(in_tmp, make_template):
    secret = "https://hooks.example.invalid/T000/B000/s3cr3t-XYZ"
    template = make_template(
        "secret.ipynb",
        'slack_webhook: str = ""  # where alerts go\napi_token: str = ""  # a token',
        "print('webhook length', len(slack_webhook))",
        "print('oops, leaked:', slack_webhook, api_token)",
        "assert slack_webhook.endswith('XYZ') and api_token == 'tok-123456'",
    )
    result = run_template(
        template, {"slack_webhook": secret, "api_token": "tok-123456"}, model="s", progress=False
    )
    assert result.status == "succeeded", result.summary["error"]
    assert result.summary["parameters"] == {"slack_webhook": "***", "api_token": "***"}
    every_file = [p for p in (in_tmp / "reports").rglob("*") if p.is_file()]
    assert {p.name for p in every_file} >= {
        "report.ipynb",
        "report.html",
        "summary.json",
        "index.jsonl",
        "run.log",
    }
    for path in every_file:
        content = path.read_bytes()
        assert secret.encode() not in content, path
        assert b"s3cr3t" not in content, path
        assert b"tok-123456" not in content, path
    assert f"webhook length {len(secret)}" in result.notebook.read_text()


def test_unknown_and_mistyped_parameters_are_refused_before_running(in_tmp, make_template):
    template = make_template("t.ipynb", "n: int = 1  # rows\nrate: float = 0.1  # a rate")
    with pytest.raises(ParameterError, match=r"unknown parameter 'nn' \(did you mean 'n'\?\)"):
        run_template(template, {"nn": 3}, progress=False)
    with pytest.raises(ParameterError, match=r"parameter 'n' must be an integer; got 'many'"):
        run_template(template, {"n": "many"}, progress=False)
    assert not (in_tmp / "reports").exists()


def test_missing_template_names_the_shipped_ones(in_tmp):
    with pytest.raises(TemplateError, match="monitoring"):
        run_template("no-such-template", {}, progress=False)


def test_template_without_parameters_cell_is_refused(tmp_path):
    path = tmp_path / "plain.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(notebook, path)
    with pytest.raises(TemplateError, match="no cell tagged 'parameters'"):
        template_parameters(path)


@pytest.mark.kernel
def test_input_that_cannot_be_read_fails_the_run(in_tmp, data_files):
    result = run_template(
        "monitoring",
        {"reference": str(data_files["reference"]), "current": str(in_tmp / "missing.parquet")},
        model="m",
        progress=False,
    )
    assert result.exit_code == 1
    assert result.summary["error"]["type"] == "DataSourceError"
    assert "missing.parquet" in result.summary["error"]["message"]


@pytest.mark.parametrize(
    ("declared", "given", "expected"),
    [
        ("n: int = 1", "42", 42),
        ("x: float = 0.5", "1e-3", 0.001),
        ("b: bool = False", "yes", True),
        ("b: bool = False", "0", False),
        ("c: list = []", "a, b", ["a", "b"]),
        ("c: list = []", '["a", "b"]', ["a", "b"]),
        ("d: dict = {}", '{"age": "ks"}', {"age": "ks"}),
        ("o: Optional[str] = None", "none", None),
        ("o: Optional[float] = None", "0.2", 0.2),
        ("s: str = ''", "42", "42"),
    ],
)
def test_command_line_strings_are_parsed_for_the_declared_type(
    make_template, declared, given, expected
):
    template = make_template("typed.ipynb", "from typing import Optional\n" + declared)
    declared_parameters = template_parameters(template)
    (name,) = declared_parameters
    assert coerce_parameters(declared_parameters, {name: given}) == {name: expected}


def test_wrong_python_types_are_refused(make_template):
    template = make_template("typed.ipynb", "n: int = 1\nflag: bool = True")
    declared = template_parameters(template)
    with pytest.raises(ParameterError, match="'n' must be an integer"):
        coerce_parameters(declared, {"n": 1.5})
    with pytest.raises(ParameterError, match="'flag' must be true or false"):
        coerce_parameters(declared, {"flag": "maybe"})


def test_shipped_template_is_documented_and_typed():
    parameters = template_parameters("monitoring")
    assert {"model", "reference", "current", "target", "prediction", "timestamp"} <= set(parameters)
    for parameter in parameters.values():
        assert parameter.help, f"parameter {parameter.name} has no explanation"
        assert parameter.type_name != "None", f"parameter {parameter.name} has no type"


@pytest.mark.build
def test_templates_are_shipped_inside_the_wheel(tmp_path):
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
        capture_output=True,
    )
    import zipfile

    (wheel,) = tmp_path.glob("monitorkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "monitorkit/notebooks/monitoring.ipynb" in names
    assert "monitorkit/templates/nbconvert/monitorkit_report/index.html.j2" in names
    assert "monitorkit/py.typed" in names


@pytest.mark.kernel
def test_a_plot_as_the_last_line_of_a_cell_shows_in_a_fresh_kernel(in_tmp, make_template):
    template = make_template(
        "plot.ipynb",
        "n: int = 2000  # rows",
        "import monitorkit as mk\n"
        "ref, cur, _ = mk.datasets.load_scenario('seasonal_retail', n_rows=n)\n"
        "drift = mk.DriftReport(ref, cur)",
        "drift.plot('temperature_c')",
    )
    result = run_template(template, {}, progress=False)
    assert result.exit_code == 0, result.summary.get("error")
    notebook = nbformat.read(result.notebook, as_version=4)
    outputs = notebook.cells[-1]["outputs"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1, outputs  # the picture, once, not only "<Figure size …>"


def test_the_summary_is_scrubbed_string_by_string_so_numbers_stay_numbers():
    from monitorkit.runner import REDACTED, _scrub_strings

    summary = {"rows": 120000, "verdict": "token 1200 leaked", "nested": [{"url": "x/1200/y"}]}
    scrubbed = _scrub_strings(summary, ["1200"])
    assert scrubbed["rows"] == 120000  # a secret that reads like part of a number: kept
    assert scrubbed["verdict"] == f"token {REDACTED} leaked"
    assert scrubbed["nested"][0]["url"] == f"x/{REDACTED}/y"
    assert json.loads(json.dumps(scrubbed)) == scrubbed
