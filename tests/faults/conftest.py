"""Fixtures of the fault suite: a :class:`~tests.faults.harness.FaultCluster` on SQLite, or
on each database in turn, torn down (every process it started killed) after the test.

The randomized run (marker ``chaos``) is deselected unless ``-m`` names it
(``python -m pytest tests/faults -m chaos``), whatever other ``-m`` a command line has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.backend_support import (  # noqa: F401 - fixtures
    any_database_url,
    postgres_server,
    sqlite_template,
    sqlite_url,
)
from tests.faults.harness import FaultCluster


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "chaos" in (config.option.markexpr or ""):
        return
    chaos = [item for item in items if item.get_closest_marker("chaos")]
    if chaos:
        config.hook.pytest_deselected(items=chaos)
        items[:] = [item for item in items if not item.get_closest_marker("chaos")]


def _cluster(root: Path, url: str) -> Iterator[FaultCluster]:
    cluster = FaultCluster(root, url)
    try:
        cluster.start_server()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def cluster(tmp_path: Path, sqlite_url: str) -> Iterator[FaultCluster]:  # noqa: F811
    """A fault cluster on SQLite (its server started, no agent yet)."""
    yield from _cluster(tmp_path / "cluster", sqlite_url)


@pytest.fixture
def any_cluster(
    tmp_path: Path,
    any_database_url: str,  # noqa: F811
) -> Iterator[FaultCluster]:
    """A fault cluster on SQLite, then on PostgreSQL."""
    yield from _cluster(tmp_path / "cluster", any_database_url)
