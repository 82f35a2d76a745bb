"""Server-side secrets: set by API and CLI, encrypted at rest (the value is nowhere in the
database files), never listed, readable by runs; a wrong server key is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.fernet import Fernet
from tests.server.conftest import make_settings
from tests.support.headrace_server import LiveServer

from headrace.cli.main import cli
from headrace.client import Client
from headrace.client.errors import ApiError, NotFoundError, ValidationError
from headrace.server.db.models import Secret

VALUE = "hunter2-correct-horse-battery"


def _database_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_secret_round_trip_encrypted_at_rest_and_never_listed(client, server, settings) -> None:
    client.set_secret("DB_PASSWORD", VALUE)
    assert client.get_secret("DB_PASSWORD") == VALUE
    listed = client.get_secrets()
    assert [row["name"] for row in listed] == ["DB_PASSWORD"]
    assert VALUE not in str(listed)
    assert set(listed[0]) == {"name", "created", "updated"}
    raw = client.request("GET", "/secrets/DB_PASSWORD")
    assert raw["secret"] is True  # marks the body for masking
    with server.db.session(write=False) as s:
        stored = s.scalar(sa.select(Secret.ciphertext))
    assert stored and VALUE not in stored
    if settings.database_url.startswith("sqlite"):
        assert VALUE.encode() not in _database_bytes(settings.database_url)
    client.set_secret("DB_PASSWORD", "second-value")
    assert client.get_secret("DB_PASSWORD") == "second-value"
    client.delete_secret("DB_PASSWORD")
    with pytest.raises(NotFoundError, match="secret 'DB_PASSWORD' not found"):
        client.get_secret("DB_PASSWORD")


def test_an_explicit_server_key_encrypts_and_another_key_cannot_read(database_url) -> None:
    key = Fernet.generate_key().decode()
    first = LiveServer(make_settings(database_url, secrets_key=key)).start()
    try:
        with Client(first.url, retries=0) as c:
            c.set_secret("TOKEN", VALUE)
        with first.db.session(write=False) as s:
            token = s.scalar(sa.select(Secret.ciphertext))
        assert Fernet(key.encode()).decrypt(token.encode()).decode() == VALUE
    finally:
        first.stop()
    other = LiveServer(make_settings(database_url, secrets_key=Fernet.generate_key().decode()))
    other.start()
    try:
        with Client(other.url, retries=0) as c, pytest.raises(ApiError) as info:
            c.get_secret("TOKEN")
        assert "stored under another server.secrets_key" in str(info.value)
        assert VALUE not in str(info.value)
    finally:
        other.stop()


def test_bad_names_and_bodies_are_refused(client) -> None:
    with pytest.raises(ApiError, match="secret name is 1-200"):
        client.set_secret("bad name!", "x")
    with pytest.raises(ValidationError, match="owner; Extra inputs"):
        client.request("PUT", "/secrets/OK", json={"value": "x", "owner": "me"})


def test_cli_sets_from_stdin_and_lists_names_only(client, server) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["secret", "set", "SLACK_URL", "--api", server.url], input=VALUE + "\n"
    )
    assert result.exit_code == 0, result.output
    assert VALUE not in result.output
    assert client.get_secret("SLACK_URL") == VALUE
    listed = runner.invoke(cli, ["secret", "list", "--api", server.url])
    assert "SLACK_URL" in listed.output and VALUE not in listed.output
    gone = runner.invoke(cli, ["secret", "delete", "SLACK_URL", "--api", server.url])
    assert gone.exit_code == 0 and client.get_secrets() == []


def test_only_admin_keys_set_or_delete_secrets_and_no_key_reads_them(database_url) -> None:
    from headrace.client.errors import ForbiddenError, UnauthorizedError
    from headrace.server.domain.auth import create_api_key

    live = LiveServer(make_settings(database_url, require_api_key=True)).start()
    try:
        with live.db.session() as s:
            _row, admin = create_api_key(s, "admin")
        with Client(live.url, api_key=admin, retries=0) as c:
            project = c.create_project("team")
            scoped = c.create_api_key("team", project_ids=[project["id"]])["key"]
            c.set_secret("TOKEN", VALUE)
        with Client(live.url, api_key=scoped, retries=0) as team:
            with pytest.raises(ForbiddenError):
                team.set_secret("TOKEN", "overwrite")
            with pytest.raises(ForbiddenError):
                team.delete_secret("TOKEN")
            assert team.get_secret("TOKEN") == VALUE  # runs of any project may read
        with (
            Client(live.url, api_key="", retries=0) as anonymous,
            pytest.raises(UnauthorizedError),
        ):
            anonymous.get_secret("TOKEN")
    finally:
        live.stop()
