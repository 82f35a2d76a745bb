"""API keys: hashed at rest, required when configured, scoped to their projects."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace.client import Client, ForbiddenError, NotFoundError, UnauthorizedError
from headrace.server.domain.auth import create_api_key


@pytest.fixture
def secured(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(database_url, require_api_key=True)).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def admin_key(secured: LiveServer) -> str:
    with secured.db.session() as session:
        _row, key = create_api_key(session, "bootstrap")
    return key


def test_requests_need_a_known_key(secured: LiveServer, admin_key: str) -> None:
    answer = httpx.get(f"{secured.url}/api/projects")
    assert answer.status_code == 401 and "requires an API key" in answer.json()["detail"]
    with (
        Client(secured.url, api_key="hr_wrong", retries=0) as bad,
        pytest.raises(UnauthorizedError, match="unknown API key"),
    ):
        bad.get_projects()
    with Client(secured.url, api_key=admin_key, retries=0) as admin:
        assert admin.create_project("p")["name"] == "p"
    assert (
        httpx.get(f"{secured.url}/api/projects", headers={"X-Api-Key": admin_key}).status_code
        == 200
    )


def test_keys_are_stored_only_as_hashes(secured: LiveServer, admin_key: str) -> None:
    with Client(secured.url, api_key=admin_key, retries=0) as admin:
        made = admin.create_api_key("ci")
        assert made["key"].startswith("hr_") and made["prefix"] == made["key"][:8]
        listed = admin.get_api_keys()
        assert all("key" not in k for k in listed) and len(listed) == 2
    with secured.db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM api_keys"))]
    for key in (admin_key, made["key"]):
        digest = hashlib.sha256(key.encode()).hexdigest()
        assert any(r["key_hash"] == digest for r in rows)
        assert not any(key in str(value) for r in rows for value in r.values())


def test_a_key_only_sees_its_projects(secured: LiveServer, admin_key: str) -> None:
    with Client(secured.url, api_key=admin_key, retries=0) as admin:
        mine = admin.create_project("mine")
        theirs = admin.create_project("theirs")
        my_flow = admin.register_document(flow_document(), project_id=mine["id"])
        their_flow = admin.register_document(flow_document(), project_id=theirs["id"])
        my_run = admin.create_flow_run(my_flow["id"])["id"]
        their_run = admin.create_flow_run(their_flow["id"])["id"]
        scoped = admin.create_api_key("team", project_ids=[mine["id"]])["key"]
    with Client(secured.url, api_key=scoped, retries=0) as team:
        assert [p["name"] for p in team.get_projects()] == ["mine"]
        assert [f["id"] for f in team.get_flows()] == [my_flow["id"]]
        assert [r["id"] for r in team.get_flow_runs()] == [my_run]
        for call in (
            lambda: team.get_flow_run(their_run),
            lambda: team.get_flow(their_flow["id"]),
            lambda: team.get_project(theirs["id"]),
            lambda: team.create_flow_run(their_flow["id"]),
            lambda: team.cancel_flow_run(their_run),
            lambda: team.register_document(flow_document(name="x"), project_id=theirs["id"]),
        ):
            with pytest.raises(NotFoundError):
                call()
        with pytest.raises(ForbiddenError, match="admin API key"):
            team.create_project("new")
        with pytest.raises(ForbiddenError):
            team.create_api_key("escalate")
        agent = team.register_agent("team-agent")
        assert [r["id"] for r in team.claim_flow_runs(agent["id"], limit=10)] == [my_run]
        assert team.register_document(flow_document(name="ok"), project_id=mine["id"])["created"]
    with Client(secured.url, api_key=admin_key, retries=0) as admin:
        assert admin.get_flow_run(their_run)["state"] == "Scheduled"


def test_without_require_api_key_a_sent_key_still_scopes(client: Client, server) -> None:
    a = client.create_project("a")
    client.create_project("b")
    with server.db.session() as session:
        _row, key = create_api_key(session, "a-only", [a["id"]])
    with Client(server.url, api_key=key, retries=0) as scoped:
        assert [p["name"] for p in scoped.get_projects()] == ["a"]
    assert len(client.get_projects()) == 2


def test_issue_api_key_bootstraps_a_secured_server(secured: LiveServer) -> None:
    from headrace.server import issue_api_key

    key = issue_api_key(secured.settings.database_url, name="first")
    with Client(secured.url, api_key=key, retries=0) as admin:
        assert [k["name"] for k in admin.get_api_keys()] == ["first"]
