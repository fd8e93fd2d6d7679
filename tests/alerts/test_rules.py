"""The alerts file: what it accepts, and the errors that name the rule, the key and the fix."""

from __future__ import annotations

import pytest

from monitorkit.alerts import AlertConfigError, evaluate, load_config, rule
from monitorkit.errors import InputError

from .conftest import write_toml

ISSUE_EXAMPLE = """
[[channel]]
name = "ml-team"
type = "slack"
url_env = "SLACK_WEBHOOK_URL"

[[rule]]
name = "inputs drifting"
figure = "drift.share_drifted"
above = { warning = 0.10, critical = 0.30 }
channels = ["ml-team"]

[[rule]]
name = "recall drop"
figure = "performance.recall"
change_from_baseline = { warning = -0.10, critical = -0.15 }
min_rows = 500
channels = ["ml-team"]
"""


def test_the_example_of_the_issue_loads(tmp_path):
    config = load_config(write_toml(tmp_path / "alerts.toml", ISSUE_EXAMPLE))
    assert [c.name for c in config.channels] == ["ml-team"]
    drifting, recall = config.rules
    assert drifting.comparison.kind == "above" and drifting.comparison.direction == "up"
    assert dict(drifting.comparison.thresholds) == {"warning": 0.10, "critical": 0.30}
    assert recall.comparison.direction == "down" and recall.min_rows == 500
    assert recall.channels == ("ml-team",)


def test_change_from_baseline_true_takes_the_10_and_15_percent_defaults():
    drop = rule("r", "performance.recall", change_from_baseline=True).comparison
    assert dict(drop.thresholds) == {"warning": -0.10, "critical": -0.15}
    assert drop.direction == "down"
    rise = rule("r", "latency.p95", change_from_baseline=True, direction="up").comparison
    assert dict(rise.thresholds) == {"warning": 0.10, "critical": 0.15} and rise.direction == "up"


def config_error(tmp_path, text: str) -> str:
    with pytest.raises(AlertConfigError) as info:
        load_config(write_toml(tmp_path / "alerts.toml", text))
    assert isinstance(info.value, InputError)  # exit code 2 on the command line
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nabove = 1\nchanels = []',
            "[[rule]] 'a': unknown key 'chanels' (did you mean 'channels'?)",
        ),
        ('[[rule]]\nname = "a"\nfigure = "x"', "give exactly one comparison"),
        ('[[rule]]\nname = "a"\nfigure = "x"\nabove = 1\nbelow = 0', "got ['above', 'below']"),
        ('[[rule]]\nname = "a"\nfigure = "x"\nabove = "high"', "'above' must be a number or"),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nabove = { warning = 3, critical = 1 }',
            "critical (1) is less extreme than warning (3)",
        ),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nchange_from_baseline = { warning = -0.1, '
            "critical = 0.2 }",
            "mixed signs",
        ),
        ('[[rule]]\nname = "a"\nfigure = "x"\nband = { k = -1 }', "must be positive"),
        ('[[rule]]\nname = "a"\nfigure = "x"\nseasonal = { match = "month" }', "'seasonal.match'"),
        ('[[rule]]\nname = "a"\nfigure = "x"\nabove = 1\ncooldown = "soon"', "'cooldown' must be"),
        ('[[rule]]\nname = "a"\nfigure = "x"\nabove = 1\nchannels = ["ops"]', "channel 'ops'"),
        ('[[rule]]\nfigure = "x"\nabove = 1', "needs 'name'"),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nabove = 1\n[[rule]]\nname = "a"\nfigure = "y"'
            "\nabove = 2",
            "rule name(s) ['a'] used twice",
        ),
        ('[[channel]]\nname = "c"\ntype = "slak"\nurl_env = "X"', "did you mean 'slack'?"),
        ('[[channel]]\nname = "c"\ntype = "slack"', "needs 'url_env'"),
        ('[rule]\nname = "a"', "write [[rule]]"),
        ("[[rule]\n", "not valid TOML"),
        ('[defaults]\nreport_url = "https://r/{model}/{run}"', "placeholder(s) {run}; the ones"),
        ('[defaults]\nreport_url = "https://r/{model"', "'report_url' is not a valid template"),
        ("[defaults]\nreport_url = 3", "'report_url' must be a string"),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nseasonal = { tolerance_hours = -5 }',
            "[[rule]] 'a': 'seasonal.tolerance_hours' is how late a run may start and still "
            "count as its week's: 0 or more hours; got -5.0.",
        ),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nband = { min_std = -1 }',
            "[[rule]] 'a': 'band.min_std' is a floor on the spread, in the figure's units: 0 or "
            "more; got -1.0.",
        ),
        (
            '[[rule]]\nname = "a"\nfigure = "x"\nseasonal = { min_std = -0.01 }',
            "'seasonal.min_std' is a floor on the spread",
        ),
        (
            '[[channel]]\nname = "mail"\ntype = "email"\nhost = "smtp.example.com"\nport = "abc"'
            '\nfrom = "a@example.com"\nto = "b@example.com"',
            "[[channel]] 'mail': 'port' must be a whole number from 1 to 65535 (587 for "
            "STARTTLS, the default); got 'abc'.",
        ),
        (
            '[[channel]]\nname = "mail"\ntype = "email"\nhost = "smtp.example.com"\nport = 0'
            '\nfrom = "a@example.com"\nto = "b@example.com"',
            "'port' must be a whole number from 1 to 65535",
        ),
    ],
)
def test_mistakes_are_named_with_the_fix(tmp_path, text, expected):
    assert expected in config_error(tmp_path, text)


def test_a_secret_written_in_the_file_is_refused_pointing_to_the_environment(tmp_path):
    message = config_error(
        tmp_path, '[[channel]]\nname = "c"\ntype = "slack"\nurl = "https://hooks.slack.com/x"'
    )
    assert "unknown key 'url'" in message and "'url_env'" in message
    assert "environment variable" in message


@pytest.mark.parametrize("key", ["url_env", "routing_key_env"])
def test_a_secret_pasted_where_its_variable_name_goes_is_not_quoted_back(tmp_path, key):
    kind = "slack" if key == "url_env" else "pagerduty"
    secret = "https://hooks.slack.com/services/T000/B000/s3cr3tT0ken"
    message = config_error(
        tmp_path, f'[[channel]]\nname = "c"\ntype = "{kind}"\n{key} = "{secret}"'
    )
    assert f"'{key}' names an environment variable" in message
    assert "s3cr3t" not in message and "hooks.slack.com" not in message
    assert "a URL" in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(AlertConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_a_figure_no_run_published_is_an_error_with_the_close_names():
    figures = {"performance.recall": 0.5, "performance.precision": 0.6}
    with pytest.raises(AlertConfigError) as info:
        evaluate(figures, rule("recall", "performance.recal", below=0.7))
    message = str(info.value)
    assert "rule 'recall'" in message and "'performance.recal'" in message
    assert "did you mean 'performance.recall'" in message and 'if_missing = "skip"' in message


def test_if_missing_skip_judges_nothing_instead():
    report = evaluate({"a.b": 1.0}, rule("r", "performance.recall", below=0.7, if_missing="skip"))
    (alert,) = report.result.alerts
    assert alert.status == "skipped" and not report.firing


def test_the_band_defaults_are_k_3_and_4_from_4_runs_over_8_weeks():
    seasonal = rule("r", "m.x", seasonal=True).comparison
    assert dict(seasonal.thresholds) == {"warning": 3.0, "critical": 4.0}
    assert (seasonal.weeks, seasonal.min_history, seasonal.min_std) == (8, 4, 0.0)
    band = rule("r", "m.x", band=True).comparison
    assert dict(band.thresholds) == {"warning": 3.0, "critical": 4.0} and band.min_history == 4
    assert "t prediction interval" in rule("r", "m.x", seasonal=True).describe()


def test_a_figure_published_as_a_string_is_not_judged_and_is_named():
    # "0.5" converts to a number, but a figure must be published as one: like a figure with
    # no value, the run is not judged, and the reason names the figure and what it was.
    r = rule("recall low", "performance.recall", below=0.7)
    report = evaluate({"performance.recall": "0.5"}, r)
    (alert,) = report.result.alerts
    assert alert.status == "skipped" and alert.value is None and not report.firing
    assert alert.reason == (
        "not judged: `performance.recall` was published as the string '0.5', not a number; "
        "publish figures as real numbers (float(…))"
    )
    assert evaluate({"performance.recall": 0.5}, r).firing  # the number itself fires
