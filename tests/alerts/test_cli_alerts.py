"""`monitorkit run/demo --alerts` and `monitorkit alerts test` as real subprocesses: scheduled
runs page on real regressions and stay quiet on `no_change`; secrets reach no file."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from monitorkit import store
from monitorkit.datasets import write_scenario

from .conftest import write_toml

RULES = """
[[channel]]
name = "oncall"
type = "webhook"
url_env = "ONCALL_HOOK_URL"
secret_env = "ONCALL_HOOK_KEY"
backoff = 0.01

[[channel]]
name = "chat"
type = "slack"
url_env = "CHAT_SLACK_URL"
min_severity = "critical"
backoff = 0.01

[[rule]]
name = "recall drop"
figure = "performance.recall"
change_from_baseline = true
min_rows = 500
channels = ["oncall", "chat"]

[[rule]]
name = "accuracy drop"
figure = "performance.accuracy"
change_from_baseline = true
min_rows = 500
channels = ["oncall", "chat"]

[[rule]]
name = "inputs drifting"
figure = "drift.share_drifted"
above = { warning = 0.3, critical = 0.5 }
channels = ["oncall"]

[[rule]]
name = "missing values"
figure = "quality.missing_rate.*"
above = { warning = 0.05, critical = 0.2 }
channels = ["oncall"]
"""


def monitorkit(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def secret_env(make_receiver) -> dict:
    oncall, chat = make_receiver(), make_receiver()
    env = {
        "ONCALL_HOOK_URL": f"{oncall.url}/hook/{secrets.token_hex(10)}",
        "ONCALL_HOOK_KEY": secrets.token_hex(16),
        "CHAT_SLACK_URL": f"{chat.url}/services/{secrets.token_hex(10)}",
    }
    env["receivers"] = (oncall, chat)
    return env


def assert_no_secret_in(folder: Path, env: dict) -> None:
    values = [env["ONCALL_HOOK_URL"].rsplit("/", 1)[1], env["ONCALL_HOOK_KEY"]]
    values.append(env["CHAT_SLACK_URL"].rsplit("/", 1)[1])
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"report.ipynb", "report.html", "summary.json", "run.log", "index.jsonl"} <= names
    for path in files:
        content = path.read_bytes()
        for value in values:
            assert value.encode() not in content, f"a secret is in {path}"


@pytest.mark.kernel
def test_a_scheduled_run_pages_on_a_real_regression(in_tmp, secret_env):
    oncall, chat = secret_env.pop("receivers")
    rules = write_toml(in_tmp / "alerts.toml", RULES)
    paths = write_scenario("fraud_imbalance", in_tmp / "data", n_rows=5000, seed=0)
    args = ["run", "monitoring", "--no-progress", "--model", "fraud", "--alerts", str(rules)]
    args += ["-p", "reference", str(paths["reference"]), "-p", "current", str(paths["current"])]
    result = monitorkit(*args, env=secret_env)
    assert result.returncode == 4, result.stderr
    assert "alerts CRITICAL" in result.stdout and "recall drop" in result.stdout
    folder = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: ")).parent
    summary = json.loads((folder / "summary.json").read_text())
    alerts = summary["alerts"]
    firing = {a["rule"]: a for a in alerts["firing"]}
    assert firing["recall drop"]["severity"] == "critical"
    assert firing["recall drop"]["value"] < firing["recall drop"]["baseline"]
    assert summary["exit_code"] == 4 and alerts["delivery_failures"] == 0
    sent = [json.loads(r["raw"]) for r in oncall.requests]
    assert {(s["rule"], s["action"]) for s in sent} >= {("recall drop", "trigger")}
    assert all(s["status"] == "firing" for s in sent)
    assert len(chat.requests) == sum(
        a["severity"] == "critical" for a in alerts["firing"] if "chat" in a["channels"]
    )
    html = (folder / "report.html").read_text()
    assert html.index("recall drop") < html.index("Verdict:")  # the alerts come first
    notebook = json.loads((folder / "report.ipynb").read_text())
    tags = [c["metadata"].get("tags", []) for c in notebook["cells"]]
    assert ["monitorkit-alerts"] in tags[:3]
    (record,) = [json.loads(line) for line in (folder.parent / "index.jsonl").open()]
    assert record["alerts"]["severity"] == "critical"
    assert record["alerts"]["firing"] == sorted(firing)
    assert_no_secret_in(in_tmp / "reports", secret_env)
    # The same data again an hour later: the open alerts are not sent again.
    again = monitorkit(*args, env=secret_env)
    assert again.returncode == 4 and len(oncall.requests) == len(sent)


@pytest.mark.kernel
def test_demo_with_alerts_stays_quiet_on_no_change(in_tmp, secret_env):
    receivers = secret_env.pop("receivers")
    rules = write_toml(in_tmp / "alerts.toml", RULES)
    result = monitorkit(
        "demo",
        "--scenario",
        "no_change",
        "--rows",
        "5000",
        "--no-progress",
        "--alerts",
        str(rules),
        env=secret_env,
    )
    assert result.returncode == 0, result.stderr
    assert "alerts OK: no alert fires (4 rule(s) checked)" in result.stdout
    assert [len(r.requests) for r in receivers] == [0, 0]
    (folder,) = [
        p for p in (in_tmp / "reports" / "demo-no_change").iterdir() if store.is_run_id(p.name)
    ]
    alerts = json.loads((folder / "summary.json").read_text())["alerts"]
    assert alerts["severity"] == "ok" and alerts["firing"] == [] and alerts["error"] is None


@pytest.mark.kernel
def test_a_rule_on_a_figure_no_run_published_exits_2_and_keeps_the_report(in_tmp, make_template):
    template = make_template(
        "t.ipynb",
        'model = "m"',
        "from monitorkit.runner import publish_summary\n"
        'publish_summary("ok", "fine", {"quality.rows": 10})',
    )
    rules = write_toml(
        in_tmp / "a.toml", '[[rule]]\nname = "r"\nfigure = "quality.row"\nbelow = 5\n'
    )
    result = monitorkit("run", str(template), "--no-progress", "--alerts", str(rules))
    assert result.returncode == 2
    assert "no run published the figure 'quality.row'" in result.stderr
    assert "did you mean 'quality.rows'" in result.stderr
    (folder,) = [p for p in (in_tmp / "reports" / "m").iterdir() if store.is_run_id(p.name)]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "succeeded" and summary["exit_code"] == 2
    assert "quality.row" in summary["alerts"]["error"]


def test_a_broken_alerts_file_exits_2_before_anything_runs(in_tmp, data_files):
    rules = write_toml(in_tmp / "a.toml", '[[rule]]\nname = "r"\nfigure = "x"\nabove = "high"\n')
    result = monitorkit(
        "run",
        "monitoring",
        "-p",
        "reference",
        str(data_files["reference"]),
        "-p",
        "current",
        str(data_files["current"]),
        "--alerts",
        str(rules),
    )
    assert result.returncode == 2
    assert "[[rule]] 'r': 'above' must be a number" in result.stderr
    assert not (in_tmp / "reports").exists()


def test_alerts_test_command_reports_each_channel(in_tmp, make_receiver):
    good = make_receiver()
    text = (
        f'[[channel]]\nname = "good"\ntype = "webhook"\nurl = "{good.url}/h"\n'
        '[[channel]]\nname = "unset"\ntype = "slack"\nurl_env = "NOT_SET_ANYWHERE_123"\n'
        "retries = 0\n"
    )
    rules = write_toml(in_tmp / "a.toml", text)
    result = monitorkit("alerts", "test", "--alerts", str(rules))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("delivered  good (webhook)")
    assert lines[1].startswith("FAILED     unset (slack)") and "NOT_SET_ANYWHERE_123" in lines[1]
    assert json.loads(good.requests[0]["raw"])["action"] == "test"
    only_good = monitorkit("alerts", "test", "--alerts", str(rules), "--channel", "good")
    assert only_good.returncode == 0 and len(good.requests) == 2
