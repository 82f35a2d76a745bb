"""Test-wide setup: an isolated headrace home and config, and src/ importable by
subprocesses the tests start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
os.environ["HEADRACE_CONFIG_PATH"] = "/nonexistent/headrace-test-config.toml"
os.environ.setdefault("HEADRACE__LOGGING__LEVEL", "WARNING")


def require(component: str, available: bool, why: str = "") -> None:
    """Skip when ``component`` is missing locally; fail in CI (HEADRACE_TEST_REQUIRE_ALL=1)."""
    if available:
        return
    message = f"{component} is not available here{': ' + why if why else ''}"
    if os.environ.get("HEADRACE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own results directory and an empty cache."""
    from headrace.configuration import config
    from headrace.engine import cache

    home = tmp_path_factory.mktemp("headrace-home")
    with config.override(**{"flows.results_dir": str(home / "results"), "home_dir": str(home)}):
        cache.clear_cache()
        yield home
        cache.clear_cache()
