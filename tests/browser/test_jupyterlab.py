"""The interactive drift report in a real JupyterLab, driven as a person would.

A JupyterLab server on 127.0.0.1 (its own config, data, runtime, settings and workspace folders
under the test's temporary directory) serves a one-cell notebook; headless Chromium opens it,
runs it from the Run menu, and uses the widget: the Columns tab, then another column.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 30
UI_TIMEOUT_MS = 60_000  # kernel start, and the cell: scenario, report, plots, widget
MIN_SCREENSHOT_BYTES = 10_000
LAB_VIEWPORT = {"width": 1400, "height": 1000}

NOTEBOOK_CODE = """\
import monitorkit as mk

reference, current, truth = mk.datasets.load_scenario("seasonal_retail", n_rows=3000)
mk.DriftReport(reference, current, by="1W")"""


@dataclass(frozen=True)
class LabServer:
    origin: str  # http://127.0.0.1:<port>
    root: Path  # the folder it serves
    log: Path  # its stdout and stderr


@pytest.fixture
def jupyterlab(tmp_path: Path, free_port: int) -> Iterator[LabServer]:
    """A JupyterLab server that needs no token, fetches nothing from outside, and keeps no state
    outside ``tmp_path``; terminated (then killed if it must be) at teardown."""
    root = tmp_path / "notebooks"
    state = tmp_path / "jupyter-state"
    root.mkdir()
    env = dict(os.environ)
    env.pop("MONITORKIT_DISPLAY", None)  # the widget view is what is under test
    for variable, folder in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
    }.items():
        env[variable] = str(state / folder)
    # No "get Jupyter news?" prompt over the notebook, no update check.
    notification = state / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={free_port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--PasswordIdentityProvider.hashed_password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=root
        )
    server = LabServer(origin=f"http://127.0.0.1:{free_port}", root=root, log=log)
    try:
        _wait_until_answering(server, process)
        yield server
    finally:
        process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)


def test_drift_widget_runs_in_jupyterlab_and_switches_the_column_plot(
    jupyterlab, watched_page, tmp_path
):
    _write_notebook(jupyterlab.root / "drift.ipynb", NOTEBOOK_CODE)
    watched = watched_page(
        allowed=[f"{jupyterlab.origin}/", f"blob:{jupyterlab.origin}/"], viewport=LAB_VIEWPORT
    )
    page = watched.page
    page.goto(f"{jupyterlab.origin}/lab/tree/drift.ipynb")

    # The kernel is ready when the status bar says so ("Python 3 (ipykernel) | Idle").
    kernel_status = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle$"))
    _wait_visible(kernel_status, "an idle kernel in the status bar", page, jupyterlab)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    tabs = page.locator(".jupyter-widgets.widget-tab")
    _wait_visible(
        tabs.get_by_role("tab", name="Overview"), "the widget (its Overview tab)", page, jupyterlab
    )
    assert tabs.count() == 1
    # The Overview tab holds the static view, re-rendered by the widget: severity first.
    banner = tabs.locator(".mk-banner").first
    assert banner.is_visible()
    assert re.match(r"(CRITICAL|WARNING)\b", banner.inner_text())

    tabs.get_by_role("tab", name="Columns").click()
    plot = tabs.locator("img.widget-image")
    _wait_visible(plot, "the column plot", page, jupyterlab)
    page.wait_for_function(_IMAGE_LOADED, arg=None)
    first_src = plot.get_attribute("src")
    select = tabs.locator(".widget-dropdown", has_text="Column").locator("select")
    labels = select.locator("option").all_inner_texts()
    shown = select.locator("option:checked").inner_text()
    assert len(labels) >= 2 and shown in labels
    other = next(label for label in labels if label != shown)

    select.select_option(label=other)
    page.wait_for_function(_IMAGE_LOADED, arg=first_src, timeout=UI_TIMEOUT_MS)
    assert plot.get_attribute("src") != first_src
    # The facts line above the plot names the chosen column.
    facts = tabs.locator("code:visible").filter(has_text=re.compile(rf"^{re.escape(other)}$"))
    assert facts.count() == 1

    screenshot = tmp_path / "jupyterlab-columns.png"
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
    assert watched.problems() == {}


# The column plot has a decoded image, and (when given one) a source other than ``old``.
_IMAGE_LOADED = """old => {
  const img = document.querySelector('.widget-tab img.widget-image');
  return img !== null && img.getAttribute('src') !== old && img.complete && img.naturalWidth > 0;
}"""


def _write_notebook(path: Path, code: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(notebook, path)


def _wait_until_answering(server: LabServer, process: subprocess.Popen) -> None:
    # Straight to loopback, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{_tail(server.log)}")
        try:
            with opener.open(f"{server.origin}/api", timeout=2) as response:
                if "version" in json.load(response):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer in {SERVER_START_TIMEOUT_S} s:\n{_tail(server.log)}")


def _wait_visible(locator, what: str, page, server: LabServer) -> None:
    """Wait for ``locator``; on timeout, fail with what the notebook and the server showed."""
    try:
        locator.first.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    except Exception as exc:  # playwright's TimeoutError; not importable before the skip
        outputs = "\n".join(page.locator(".jp-OutputArea").all_inner_texts())
        raise AssertionError(
            f"{what} did not show within {UI_TIMEOUT_MS / 1000:.0f} s\n"
            f"cell outputs (start):\n{outputs[:2000]}\nserver log (end):\n{_tail(server.log)}"
        ) from exc


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
