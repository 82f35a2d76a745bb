"""Client tests talk to a real headrace server (uvicorn on 127.0.0.1, SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.headrace_server import LiveServer

from headrace.server.db.database import Database
from headrace.server.settings import ServerSettings


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'client.db'}"
    Database(url).migrate()
    return url


@pytest.fixture
def live_server(sqlite_url: str) -> Iterator[LiveServer]:
    live = LiveServer(ServerSettings.from_config(database_url=sqlite_url, run_services=False))
    live.start()
    try:
        yield live
    finally:
        live.stop()
