"""Server settings come from the ``[server]`` config section, with explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace.configuration import config
from headrace.server.settings import ServerSettings


def test_defaults_put_sqlite_under_home_dir(_isolated_home: Path) -> None:
    settings = ServerSettings.from_config()
    assert settings.database_url == f"sqlite:///{_isolated_home / 'headrace.db'}"
    assert settings.heartbeat_timeout == config.server.heartbeat_timeout
    assert settings.require_api_key is False


def test_overrides_win_and_unknown_names_are_refused() -> None:
    with config.override(**{"server.late_after": 5.0}):
        settings = ServerSettings.from_config(
            database_url="sqlite:////tmp/x.db", schedule_max_runs=2
        )
        assert (settings.late_after, settings.schedule_max_runs) == (5.0, 2)
        assert settings.database_url == "sqlite:////tmp/x.db"
        with pytest.raises(TypeError, match="heartbeat_timout"):
            ServerSettings.from_config(heartbeat_timout=3)


def test_request_threads_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match=r"server\.request_threads must be a whole number"):
        ServerSettings.from_config(request_threads=0)
    assert ServerSettings.from_config(request_threads=2).request_threads == 2
