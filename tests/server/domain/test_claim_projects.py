"""Agents scoped to projects: a claim that names projects (by name or id) takes only their
runs; a project-scoped API key claims only its projects' runs, and cannot even name one it
does not see. Real server on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace.client import Client, NotFoundError
from headrace.server.domain.auth import issue_api_key


def _run_in(client: Client, project: dict) -> str:
    flow = client.register_document(flow_document(), project_id=project["id"])
    return str(client.create_flow_run(flow["id"])["id"])


def test_a_claim_naming_projects_takes_only_their_runs(client: Client) -> None:
    p, q, r = (client.create_project(name) for name in ("p", "q", "r"))
    in_p, in_q, in_r = _run_in(client, p), _run_in(client, q), _run_in(client, r)
    agent = client.register_agent("scoped")
    assert [x["id"] for x in client.claim_flow_runs(agent["id"], 10, projects=["p"])] == [in_p]
    assert client.claim_flow_runs(agent["id"], 10, projects=["p"]) == []
    # by id, and several at once
    both = client.claim_flow_runs(agent["id"], 10, projects=[q["id"], "r"])
    assert sorted(x["id"] for x in both) == sorted([in_q, in_r])
    assert {x["project_id"] for x in both} == {q["id"], r["id"]}
    with pytest.raises(NotFoundError, match="project 'nope' not found"):
        client.claim_flow_runs(agent["id"], 10, projects=["p", "nope"])


def test_a_project_scoped_key_claims_only_its_projects(database_url: str) -> None:
    settings = make_settings(database_url, require_api_key=True)
    admin_key = issue_api_key(database_url)
    server = LiveServer(settings).start()
    try:
        with Client(server.url, api_key=admin_key, retries=0) as admin:
            mine, theirs = admin.create_project("mine"), admin.create_project("theirs")
            my_run, their_run = _run_in(admin, mine), _run_in(admin, theirs)
            team_key = admin.create_api_key("team", project_ids=[mine["id"]])["key"]
        with Client(server.url, api_key=team_key, retries=0) as team:
            agent = team.register_agent("team-agent")
            with pytest.raises(NotFoundError, match="project 'theirs' not found"):
                team.claim_flow_runs(agent["id"], 10, projects=["theirs"])
            with pytest.raises(NotFoundError):
                team.claim_flow_runs(agent["id"], 10, projects=[theirs["id"]])
            assert [x["id"] for x in team.claim_flow_runs(agent["id"], 10)] == [my_run]
        with Client(server.url, api_key=admin_key, retries=0) as admin:
            assert admin.get_flow_run(their_run)["state"] == "Scheduled"
    finally:
        server.stop()


def test_a_project_key_cannot_see_or_use_another_projects_agents(database_url: str) -> None:
    settings = make_settings(database_url, require_api_key=True)
    admin_key = issue_api_key(database_url)
    server = LiveServer(settings).start()
    try:
        with Client(server.url, api_key=admin_key, retries=0) as admin:
            a, b = admin.create_project("a"), admin.create_project("b")
            run_b = _run_in(admin, b)
            key_a = admin.create_api_key("team-a", project_ids=[a["id"]])["key"]
            key_b = admin.create_api_key("team-b", project_ids=[b["id"]])["key"]
            admins_agent = admin.register_agent("admins")
        with Client(server.url, api_key=key_b, retries=0) as team_b:
            agent_b = team_b.register_agent("agent-b", labels=["b"])
            assert [x["name"] for x in team_b.get_agents()] == ["agent-b"]
        with Client(server.url, api_key=key_a, retries=0) as team_a:
            agent_a = team_a.register_agent("agent-a")
            assert [x["name"] for x in team_a.get_agents()] == ["agent-a"]
            for other in (agent_b["id"], admins_agent["id"]):
                with pytest.raises(NotFoundError, match=f"agent {other} not found"):
                    team_a.get_agent(other)
                with pytest.raises(NotFoundError):
                    team_a.agent_heartbeat(other)
                with pytest.raises(NotFoundError):
                    team_a.claim_flow_runs(other, 10)
            dashboard = team_a.request("GET", "/ui/dashboard")
            assert [x["name"] for x in dashboard["agents"]] == ["agent-a"]
            assert team_a.claim_flow_runs(agent_a["id"], 10) == []
        with Client(server.url, api_key=admin_key, retries=0) as admin:
            assert {x["name"] for x in admin.get_agents()} == {"admins", "agent-a", "agent-b"}
            assert admin.get_flow_run(run_b)["state"] == "Scheduled"
            assert admin.get_agent(agent_b["id"])["name"] == "agent-b"
    finally:
        server.stop()
