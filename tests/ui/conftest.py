"""Fixtures for the web UI's tests: a real server (SQLite file, or each database where a
test uses ``server``/``client``), a real local agent for the end-to-end tests, and a real
headless Chromium driven by Playwright.

Chromium is Debian's (``scripts/ci/install-chromium.sh``); Playwright's own browser download
cannot work offline, so it is launched by path, with a fresh profile directory per session.
Screenshots go to ``artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import agent_env
from tests.conftest import require
from tests.server.conftest import (
    client,
    database_url,
    make_settings,
    postgres_server,
    server,
    settings,
    sqlite_template,
)
from tests.support.headrace_server import LiveServer

from headrace.client import Client

__all__ = [
    "agent_env",
    "client",
    "database_url",
    "postgres_server",
    "server",
    "settings",
    "sqlite_template",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the session, on a fresh user-data directory."""
    require(
        "chromium",
        CHROMIUM.exists(),
        f"no {CHROMIUM}: run scripts/ci/install-chromium.sh (as root)",
    )
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1300, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


class PageProbe:
    """A page plus what it reported: script errors, console errors (CSP violations are
    console errors), dialogs (an injected ``alert`` would be one)."""

    def __init__(self, page: Any, test_name: str) -> None:
        self.page = page
        self.test_name = re.sub(r"[^\w.-]+", "_", test_name)
        self.errors: list[str] = []
        self.errors_allowed: tuple[str, ...] = ()
        self.dialogs: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot as ``artifacts/screenshots/<test>-<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        # a full-page capture resizes the viewport and leaves Chromium's scroll state
        # inconsistent: the next click's mousedown and mouseup can land on different
        # elements. Scrolling (back to the top) settles it.
        self.page.evaluate("window.scrollTo(0, 0)")
        return path


@pytest.fixture
def probe(
    browser_context: Any, ui_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[PageProbe]:
    """A fresh tab; the test fails if the page logged a script or console error. It takes
    ``ui_server`` so the server outlives the tab (a poll to a stopped server is an error)."""
    page = browser_context.new_page()
    probe = PageProbe(page, request.node.name)
    try:
        yield probe
    finally:
        page.close()
    errors = [e for e in probe.errors if not any(a in e for a in probe.errors_allowed)]
    assert errors == [], f"the page reported errors: {errors}"


@pytest.fixture
def ui_server(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    """A live server on a fresh SQLite file (the browser tests need one database only)."""
    path = tmp_path / "headrace.db"
    shutil.copy(sqlite_template, path)
    live = LiveServer(make_settings(f"sqlite:///{path}")).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def ui_client(ui_server: LiveServer) -> Iterator[Client]:
    with Client(ui_server.url, retries=2, backoff=0.05) as c:
        yield c
