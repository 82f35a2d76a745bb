"""``require`` for fixtures in this package: the same rule as ``tests/conftest.py``'s (skip
locally, fail in CI when ``HEADRACE_TEST_REQUIRE_ALL=1``), importable from any directory
(``conftest`` as a module name is ambiguous once sub-directories have their own)."""

from __future__ import annotations

import os

import pytest

__all__ = ["require"]


def require(component: str, available: bool, why: str = "") -> None:
    """Skip when ``component`` is missing locally; fail in CI (HEADRACE_TEST_REQUIRE_ALL=1)."""
    if available:
        return
    message = f"{component} is not available here{': ' + why if why else ''}"
    if os.environ.get("HEADRACE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)
