"""Real receivers on 127.0.0.1, started by the tests: HTTP (Slack, PagerDuty, webhooks),
SMTP (aiosmtpd) and Debian's prometheus-alertmanager binary."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitorkit import store
from monitorkit.alerts import load_config
from monitorkit.alerts.notify import ALERTS_DIR, DELIVERIES_NAME, OUTBOX_DIR
from monitorkit.alerts.run import after_run

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


class Receiver:
    """An HTTP server in a thread that records every POST and answers from a script.

    ``statuses``: the status codes of the next answers (then ``default_status``);
    ``hang``: that many next requests get no answer until the test ends (or ``release()``);
    ``echo``: the answer says the request's path, as many servers' error pages do.
    """

    def __init__(self, default_status: int = 200, body: bytes = b"ok", echo: bool = False):
        self.echo = echo
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.default_status = default_status
        self.body = body
        self.hang = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "raw": raw}
                    )
                    hang = receiver.hang > 0
                    if hang:
                        receiver.hang -= 1
                    status = receiver.statuses.pop(0) if receiver.statuses else None
                if hang:
                    receiver._released.wait(30)
                    return  # the client has given up; no answer
                status = status or receiver.default_status
                body = f"Cannot POST {self.path}".encode() if receiver.echo else receiver.body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def json(self, i: int) -> object:
        return json.loads(self.requests[i]["raw"])

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_receiver():
    servers = []

    def make(**kwargs) -> Receiver:
        servers.append(Receiver(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on 127.0.0.1 collecting the messages it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(tmp_path: Path):
    """Debian's prometheus-alertmanager, listening on a free port of 127.0.0.1."""
    if ALERTMANAGER is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus-alertmanager is missing in CI: .ci/run must install it")
        pytest.skip(
            "prometheus-alertmanager is not installed here (apt-get install "
            "prometheus-alertmanager; .ci/run installs it)"
        )
    config = tmp_path / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = _free_port()
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"alertmanager did not start: {process.stderr.read()!r}")
        time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def add_history(model_dir: Path, runs: list[tuple[dt.datetime, dict]]) -> None:
    """Append succeeded runs (time, figures) to model_dir/index.jsonl."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for i, (time_, figures) in enumerate(runs):
        store.append_index(
            model_dir,
            {
                "run_id": f"{time_:%Y%m%dT%H%M%SZ}-{i:08x}",
                "started_at": time_.isoformat(),
                "status": "succeeded",
                "figures": figures,
            },
        )


class Runs:
    """Runs of a model without a kernel: what `monitorkit run --alerts` does after the
    notebook, then the run's line in index.jsonl."""

    def __init__(self, tmp_path: Path, config: Path, environ: dict) -> None:
        self.model_dir = tmp_path / "reports" / "churn"
        self.config = load_config(config)
        self.environ = environ
        self.sleeps: list[float] = []

    def run(self, figures: dict, when: dt.datetime) -> dict:
        folder = self.model_dir / f"{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True)
        entry = after_run(
            self.config,
            {"figures": figures},
            folder=folder,
            model="churn",
            started=when,
            environ=self.environ,
            sleep=self.sleeps.append,
        )
        store.append_index(
            self.model_dir,
            {
                "run_id": folder.name,
                "started_at": when.isoformat(),
                "status": "succeeded",
                "figures": figures,
            },
        )
        return entry

    @property
    def alerts_dir(self) -> Path:
        return self.model_dir / ALERTS_DIR

    def outbox(self) -> list[Path]:
        return sorted((self.alerts_dir / OUTBOX_DIR).glob("*.json"))

    def deliveries(self) -> list[dict]:
        path = self.alerts_dir / DELIVERIES_NAME
        return [json.loads(line) for line in path.read_text().splitlines()]
