"""Projects, flows (versions), flow runs, task runs, logs, agents and limits over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.server.conftest import flow_document

from headrace.client import Client, ConflictError, NotFoundError, ValidationError


def test_projects_create_list_read_and_duplicates(client: Client) -> None:
    made = client.create_project("alpha", description="first")
    assert made["name"] == "alpha" and made["description"] == "first"
    with pytest.raises(ConflictError, match="alpha"):
        client.create_project("alpha")
    assert client.create_project("alpha", exist_ok=True)["id"] == made["id"]
    client.create_project("beta")
    assert [p["name"] for p in client.get_projects()] == ["alpha", "beta"]
    assert client.get_project(made["id"])["name"] == "alpha"
    with pytest.raises(NotFoundError, match="project nope not found"):
        client.get_project("nope")


def test_registering_an_unchanged_flow_is_a_no_op_and_a_change_makes_a_version(
    client: Client, project: dict
) -> None:
    first = client.register_document(flow_document(), project_id=project["id"])
    again = client.register_document(flow_document(), project_id=project["id"])
    assert again["id"] == first["id"] and again["created"] is False and first["created"]
    changed = client.register_document(
        flow_document(tasks=("extract", "load")), project_id=project["id"]
    )
    assert changed["id"] != first["id"]
    assert changed["flow_group_id"] == first["flow_group_id"]
    assert (first["version"], changed["version"]) == (1, 2)
    latest = client.get_flows(project_id=project["id"])
    assert [f["id"] for f in latest] == [changed["id"]]
    every = client.get_flows(project_id=project["id"], all_versions=True)
    assert {f["version"]: f["archived"] for f in every} == {1: True, 2: False}
    doc = client.get_flow(changed["id"])["document"]
    assert [t["slug"] for t in doc["tasks"]] == ["extract-1", "load-1"]


def test_flow_labels_are_the_union_of_environment_storage_run_config_and_given(
    client: Client, project: dict
) -> None:
    doc = flow_document(labels=("env",))
    doc["storage"]["labels"] = ["store"]
    doc["run_config"] = {"type": "headrace.run_configs:LocalRun", "labels": ["rc"]}
    flow = client.register_document(doc, project_name="proj", labels=["extra"])
    assert client.get_flow(flow["id"])["labels"] == ["env", "extra", "rc", "store"]
    run = client.create_flow_run(flow["id"])
    assert run["labels"] == ["env", "extra", "rc", "store"]
    assert run["run_config"]["type"] == "headrace.run_configs:LocalRun"
    assert client.create_flow_run(flow["id"], labels=["only"])["labels"] == ["only"]


def test_bad_flow_documents_are_rejected_naming_the_key(client: Client, project: dict) -> None:
    doc = flow_document()
    doc["tasks"].append(dict(doc["tasks"][0]))
    with pytest.raises(ValidationError, match="duplicate slug 'extract-1'"):
        client.register_document(doc, project_id=project["id"])
    with pytest.raises(ValidationError, match=r"document\.name"):
        client.register_document({**flow_document(), "name": ""}, project_id=project["id"])
    with pytest.raises(NotFoundError, match="project 'ghost' not found") as info:
        client.register_document(flow_document(), project_name="ghost")
    assert info.value.field == "project_id"
    assert client.get_flows() == []


def test_flow_run_creation_pins_the_version_and_creates_task_runs_in_bulk(
    client: Client, flow_id: str
) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    run = client.create_flow_run(flow_id, name="nightly", scheduled_start=start)
    assert run["flow_id"] == flow_id and run["name"] == "nightly"
    assert run["state"] == "Scheduled" and run["version"] == 1
    assert datetime.fromisoformat(run["scheduled_start"]) == start
    task_runs = client.get_task_runs(run["id"])
    assert [(t["task_slug"], t["map_index"], t["state"], t["version"]) for t in task_runs] == [
        ("extract-1", -1, "Pending", 0),
        ("load-1", -1, "Pending", 0),
        ("transform-1", -1, "Pending", 0),
    ]
    assert client.get_flow_run(run["id"])["task_run_counts"] == {"Pending": 3}
    history = client.get_flow_run_states(run["id"])
    assert [(s["name"], s["version"]) for s in history] == [("Scheduled", 1)]


def test_parameters_are_checked_against_the_flow(client: Client, project: dict) -> None:
    params = [
        {"name": "x", "slug": "x", "default": None, "required": True},
        {"name": "y", "slug": "y", "default": 2, "required": False},
    ]
    flow = client.register_document(flow_document(parameters=params), project_id=project["id"])
    with pytest.raises(ValidationError, match=r"parameters\.x: required") as info:
        client.create_flow_run(flow["id"], parameters={"y": 1})
    assert info.value.field == "parameters.x"
    with pytest.raises(ValidationError, match="no parameter 'z'"):
        client.create_flow_run(flow["id"], parameters={"x": 1, "z": 3})
    run = client.create_flow_run(flow["id"], parameters={"x": 1})
    assert run["parameters"] == {"x": 1}
    assert len(client.get_flow_runs(flow_id=flow["id"])) == 1


def test_idempotency_key_returns_the_same_run(client: Client, flow_id: str) -> None:
    first = client.create_flow_run(flow_id, idempotency_key="k1")
    second = client.create_flow_run(flow_id, idempotency_key="k1", parameters={})
    other = client.create_flow_run(flow_id, idempotency_key="k2")
    assert first["id"] == second["id"] != other["id"]
    assert len(client.get_flow_runs(flow_id=flow_id)) == 2


def test_flow_run_listing_filters(client: Client, flow_id: str) -> None:
    a = client.create_flow_run(flow_id, labels=["gpu"])
    b = client.create_flow_run(flow_id)
    client.cancel_flow_run(b["id"])
    assert [r["id"] for r in client.get_flow_runs(state=["Cancelled"])] == [b["id"]]
    assert [r["id"] for r in client.get_flow_runs(label="gpu")] == [a["id"]]
    assert len(client.get_flow_runs(limit=1)) == 1
    with pytest.raises(ValidationError, match="limit"):
        client.get_flow_runs(limit=0)
    with pytest.raises(ValidationError, match="unknown state 'Done'"):
        client.get_flow_runs(state=["Done"])


def test_unknown_ids_are_404_everywhere(client: Client) -> None:
    for call in (
        lambda: client.get_flow("x"),
        lambda: client.get_flow_run("x"),
        lambda: client.get_task_run("x"),
        lambda: client.get_agent("x"),
        lambda: client.create_flow_run("x"),
        lambda: client.get_logs("x"),
        lambda: client.cancel_flow_run("x"),
        lambda: client.claim_flow_runs("x"),
        lambda: client.heartbeat("x"),
        lambda: client.restart_flow_run("x"),
        lambda: client.report("x", {}),
        lambda: client.get_task_run_summary("x"),
        lambda: client.set_task_run_state("x", "Running"),
        lambda: client.agent_heartbeat("x"),
        lambda: client.get_flow_group("x"),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_invalid_input_names_the_field(client: Client, server) -> None:
    answer = httpx.post(f"{server.url}/api/flow_runs", json={"flow_id": "f", "bogus": 1})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "validation_error" and "bogus" in body["field"]
    answer = httpx.post(f"{server.url}/api/projects", json={"name": ""})
    assert answer.status_code == 422 and "name" in answer.json()["field"]
    with pytest.raises(ValidationError, match="max_retries"):
        client.request("POST", "/flow_runs", json={"flow_id": "f", "max_retries": -1})


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_with_no_utc_form_is_a_422_not_a_500(server, flow_id: str, when: str) -> None:
    """Times are stored in UTC: one whose offset carries it past the calendar's ends is
    refused naming the field (it was an overflow, a 500, where the database bound it)."""
    import base64

    import orjson

    answer = httpx.post(
        f"{server.url}/api/flow_runs", json={"flow_id": flow_id, "scheduled_start": when}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "scheduled_start"
    answer = httpx.post(
        f"{server.url}/api/backfills", json={"flow_id": flow_id, "start": when, "end": when}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "start, end"
    # a cursor is opaque but can be forged: the same time in one is refused as well
    forged = orjson.dumps(["flow_runs:newest", when, "x"])
    cursor = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    answer = httpx.get(f"{server.url}/api/flow_runs", params={"cursor": cursor})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "cursor"


def test_task_runs_bulk_create_is_idempotent(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    children = [{"task_slug": "transform-1", "map_index": i} for i in range(500)]
    made = client.create_task_runs(run["id"], children)
    again = client.create_task_runs(run["id"], children[:10])
    assert len(made) == 500 and {t["task_name"] for t in made} == {"transform-1"}
    assert {t["id"] for t in again} <= {t["id"] for t in made}
    assert client.get_flow_run(run["id"])["task_run_counts"] == {"Pending": 503}
    parents = client.get_task_runs(run["id"], include_children=False)
    assert len(parents) == 3


def test_logs_bulk_insert_filter_search_and_pages(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    records = [
        {
            "flow_run_id": run["id"],
            "level": 10 if i % 2 else 40,
            "message": f"line {i} 50%_x",
            "name": "headrace.task",
        }
        for i in range(30)
    ]
    assert client.write_logs(records) == 30
    assert len(client.get_logs(run["id"], limit=1000)) == 30
    errors = client.get_logs(run["id"], level=40)
    assert len(errors) == 15 and all(r["level"] == 40 for r in errors)
    assert [r["message"] for r in client.get_logs(run["id"], search="LINE 7 ")] == ["line 7 50%_x"]
    assert len(client.get_logs(run["id"], search="50%_")) == 30
    assert client.get_logs(run["id"], search="5_%") == []
    page1 = client.get_logs(run["id"], limit=10)
    page2 = client.get_logs(run["id"], limit=10, after_id=page1[-1]["id"])
    assert [r["message"] for r in page1 + page2] == [f"line {i} 50%_x" for i in range(20)]
    with pytest.raises(ValidationError, match="flow_run_id"):
        client.write_logs([{"message": "orphan"}])


def test_agents_register_heartbeat_and_list(client: Client) -> None:
    agent = client.register_agent("a1", labels=["docker", "docker", "gpu"], type="LocalAgent")
    assert agent["labels"] == ["docker", "gpu"]
    before = agent["last_seen"]
    assert client.agent_heartbeat(agent["id"]) == {"cancel_flow_run_ids": []}
    seen = datetime.fromisoformat(client.get_agent(agent["id"])["last_seen"])
    assert seen > datetime.fromisoformat(before)
    assert [a["name"] for a in client.get_agents()] == ["a1"]
    with pytest.raises(ValidationError, match="labels"):
        client.register_agent("a2", labels=[" "])


def test_concurrency_limits_crud(client: Client) -> None:
    client.set_concurrency_limit("task_tag", "db", 2)
    client.set_concurrency_limit("task_tag", "db", 3)
    client.set_concurrency_limit("flow_label", "gpu", 1)
    limits = client.get_concurrency_limits()
    assert [(x["kind"], x["name"], x["limit"], x["active"]) for x in limits] == [
        ("flow_label", "gpu", 1, 0),
        ("task_tag", "db", 3, 0),
    ]
    client.delete_concurrency_limit("task_tag", "db")
    with pytest.raises(NotFoundError, match="db"):
        client.delete_concurrency_limit("task_tag", "db")
    with pytest.raises(ValidationError):
        client.set_concurrency_limit("nonsense", "x", 1)


def test_openapi_documents_every_route(server) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/projects",
        "/api/flows",
        "/api/flow_runs",
        "/api/flow_runs/{flow_run_id}/report",
        "/api/agents/{agent_id}/claim",
        "/api/concurrency_limits/{kind}/{name}",
        "/api/api_keys",
        "/api/flow_runs/{flow_run_id}/logs",
    ):
        assert path in paths, path
    assert "ReportIn" in schema["components"]["schemas"]
    assert httpx.get(f"{server.url}/api/health").json()["status"] == "ok"


def test_deleting_a_project_removes_its_flows_runs_and_logs(client: Client, server) -> None:
    keep = client.create_project("keep")
    drop = client.create_project("drop")
    kept_flow = client.register_document(flow_document(), project_id=keep["id"])
    flow = client.register_document(flow_document(), project_id=drop["id"])
    run = client.create_flow_run(flow["id"], labels=["x"])["id"]
    client.write_logs([{"flow_run_id": run, "message": "bye"}])
    client.delete_project(drop["id"])
    with pytest.raises(NotFoundError):
        client.get_flow_run(run)
    assert [f["id"] for f in client.get_flows()] == [kept_flow["id"]]
    with server.db.engine.connect() as conn:
        for table in ("task_runs", "logs", "states", "flow_run_labels", "flow_groups"):
            left = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            assert left == (1 if table == "flow_groups" else 0), table


def test_racing_creates_of_one_project_give_one_project_and_a_409(client: Client, server) -> None:
    import threading

    barrier = threading.Barrier(4)
    answers: list[int] = []

    def create() -> None:
        barrier.wait()
        answers.append(httpx.post(f"{server.url}/api/projects", json={"name": "same"}).status_code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 409, 409, 409]
    assert [p["name"] for p in client.get_projects()] == ["same"]
