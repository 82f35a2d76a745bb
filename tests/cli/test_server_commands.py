"""``headrace server create-api-key`` makes a key a key-protected server accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.headrace_server import LiveServer

from headrace.cli.main import cli
from headrace.client import Client
from headrace.client.errors import ClientError
from headrace.server.settings import ServerSettings


def test_create_api_key_opens_a_server_that_requires_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    result = CliRunner().invoke(
        cli, ["server", "create-api-key", "--name", "ops", "--database", url]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert len(key) >= 20
    settings = ServerSettings.from_config(
        database_url=url, require_api_key=True, run_services=False
    )
    live = LiveServer(settings).start()
    try:
        with Client(live.url, api_key=None, retries=0) as anonymous, pytest.raises(ClientError):
            anonymous.get_projects()
        with Client(live.url, api_key=key, retries=0) as client:
            client.create_project("secured")
            assert [p["name"] for p in client.get_projects()] == ["secured"]
            assert [k["name"] for k in client.get_api_keys()] == ["ops"]
    finally:
        live.stop()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("keys.db*"))  # incl. the WAL
    assert stored and key.encode() not in stored
