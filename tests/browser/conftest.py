"""Real-browser fixtures: Debian's headless Chromium driven by Playwright, pages that may not
reach the network, and free loopback ports.

Playwright's own browser downloads are never used (`playwright install` is not run anywhere):
the browser is the system's ``/usr/bin/chromium``. Every test here is skipped, with the reason,
when that browser or the ``playwright`` package is missing.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root, offline: without the background-networking flags Chromium tries to reach
# Google's hosts at start, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
DEFAULT_TIMEOUT_MS = 30_000


def _why_no_browser() -> str | None:
    if not CHROMIUM.is_file():
        return f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need the playwright package (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    """Skip every test of this folder, before its expensive fixtures run, when there is no
    browser to drive."""
    reason = _why_no_browser()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI installs Chromium and playwright (.ci/run), yet: {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module (closed before other modules run their kernels)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class WatchedPage:
    """A page whose every request outside ``allowed`` is aborted, and what it did.

    ``requests`` holds every URL the page asked for, in order (``data:`` URLs excepted: those
    are the page's own inline images and never leave the browser); ``blocked`` the ones that
    were aborted; ``console_errors``, ``page_errors`` (uncaught exceptions) and ``dialogs``
    (``alert``, ``confirm``, …; each dismissed) what a person would have seen go wrong.
    """

    page: Any
    allowed: tuple[str, ...]
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        """Everything a quiet, offline page must not show; empty when all is well."""
        found = {
            "blocked requests": self.blocked,
            "console errors": self.console_errors,
            "uncaught page errors": self.page_errors,
            "dialogs": self.dialogs,
        }
        return {what: items for what, items in found.items() if items}

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", *self.allowed)):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _request(self, request: Any) -> None:
        if not request.url.startswith("data:"):
            self.requests.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url") if message.location else None
            self.console_errors.append(f"{message.text} (at {where})")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def watched_page(browser) -> Iterator[Callable[..., WatchedPage]]:
    """A function opening a fresh page (own context: no cookies, storage or cache shared)
    that may load only URLs starting with one of ``allowed``; all else is aborted and recorded.
    """
    contexts = []

    def open_page(allowed: Sequence[str], viewport: dict[str, int] | None = None) -> WatchedPage:
        # Service workers would fetch past page.route; no page under test needs one.
        context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watched = WatchedPage(page=page, allowed=tuple(allowed))
        page.route("**/*", watched._route)
        page.on("request", watched._request)
        page.on("console", watched._console)
        page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
        page.on("dialog", watched._dialog)
        return watched

    yield open_page
    for context in contexts:
        context.close()
