"""Real services on 127.0.0.1 for the capture tests: Debian's Prometheus server and
Pushgateway (installed by .ci/run), started per test on free ports and stopped after it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PUSHGATEWAY = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh Pushgateway (Debian's prometheus-pushgateway)."""
    if not Path(PUSHGATEWAY).is_file():
        if os.environ.get("CI"):
            pytest.fail("prometheus-pushgateway is missing in CI: .ci/run must install it")
        pytest.skip(
            "needs Debian's prometheus-pushgateway (apt-get install prometheus-pushgateway)"
        )
    port = free_port()
    log = open(tmp_path / "pushgateway.log", "wb")
    process = subprocess.Popen(
        # Debian's build persists to /var/lib/prometheus by default: keep this one in memory.
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url + "/-/ready", process)
        yield url
    finally:
        _stop(process)
        log.close()


@pytest.fixture
def prometheus_server(tmp_path: Path):
    """A function starting Debian's Prometheus on a free port, scraping the given targets
    (``host:port``) every second; returns its URL. Stopped after the test."""
    if not Path(PROMETHEUS).is_file():
        if os.environ.get("CI"):
            pytest.fail("prometheus is missing in CI: .ci/run must install it")
        pytest.skip("needs Debian's prometheus (apt-get install prometheus)")
    started: list[tuple[subprocess.Popen, object]] = []

    def start(targets: list[str]) -> str:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        listed = ", ".join(f"'{t}'" for t in targets)
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: serving\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: [{listed}]\n"
        )
        log = open(tmp_path / "prometheus.log", "wb")
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=log,
        )
        started.append((process, log))
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url + "/-/ready", process, seconds=60)
        return url

    yield start
    for process, log in started:
        _stop(process)
        log.close()
