"""The UI's aggregate endpoints (``/api/ui/...``) and page routes against a real server,
on SQLite and on PostgreSQL: each answers a whole page from GROUP BY queries."""

from __future__ import annotations

import json
import posixpath
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.server.conftest import finish_task_runs, flow_document
from tests.support.headrace_server import LiveServer
from tests.ui.reporting import mapped_run, move_run, move_tasks

from headrace.client import Client
from headrace.server.ui.pages import CSP, STATIC_DIR

MAPPED_DOC_TASKS = ("extract", "square", "load")


def _mapped_document(name: str = "etl") -> dict[str, Any]:
    doc = flow_document(
        name,
        tasks=MAPPED_DOC_TASKS,
        parameters=[
            {"name": "n", "slug": "n", "default": 3, "required": False},
            {"name": "who", "slug": "who", "default": None, "required": True},
        ],
    )
    for edge in doc["edges"]:
        if edge["downstream"] == "square-1":
            edge["mapped"] = True
    return doc


def _get(server: LiveServer, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/api/ui{path}", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def mapped_flow(client: Client) -> dict[str, Any]:
    project = client.create_project("ui")
    return client.register_document(_mapped_document(), project_id=project["id"])


def test_run_page_counts_mapped_children_in_one_node(
    server: LiveServer, client: Client, mapped_flow: dict[str, Any]
) -> None:
    run = client.create_flow_run(mapped_flow["id"], parameters={"who": "x"})
    move_tasks(client, run["id"], [("extract-1", -1, 0, "Running", None)])
    move_tasks(client, run["id"], [("extract-1", -1, 1, "Success", None)])
    mapped_run(client, run["id"], "square-1", 1000, failed_every=100)
    client.write_logs(
        [
            {"flow_run_id": run["id"], "message": f"line {i}", "level": 40 if i % 10 == 0 else 20}
            for i in range(50)
        ]
    )
    raw = httpx.get(f"{server.url}/api/ui/flow_runs/{run['id']}", timeout=30)
    page = raw.json()
    nodes = {n["slug"]: n for n in page["graph"]["nodes"]}
    assert set(nodes) == {"extract-1", "square-1", "load-1", "n", "who"}
    square = nodes["square-1"]
    assert square["mapped"] is True and square["state"] == "Mapped"
    assert square["children"] == {"Success": 990, "Failed": 10}
    assert square["child_count"] == 1000
    assert square["start"] is not None and square["end"] >= square["start"]
    assert nodes["extract-1"]["state"] == "Success" and nodes["load-1"]["state"] == "Pending"
    assert nodes["load-1"]["start"] is None
    assert page["task_counts"]["Success"] == 990 + 1 and page["task_counts"]["Failed"] == 10
    assert page["run"]["state"] == "Running" and page["run"]["parameters"] == {"who": "x"}
    assert [x["message"] for x in page["logs"]] == [f"line {i}" for i in range(50)]
    # one child per row would be ~100 bytes x 1000; the aggregate stays far below that
    assert len(raw.content) < 20_000, len(raw.content)

    cursor = page["log_cursor"]
    client.write_logs([{"flow_run_id": run["id"], "message": "later", "level": 20}])
    more = _get(server, f"/flow_runs/{run['id']}", logs_after=cursor)
    assert [x["message"] for x in more["logs"]] == ["later"] and not more["logs_reset"]
    errors = _get(server, f"/flow_runs/{run['id']}", log_level=40)
    assert [x["message"] for x in errors["logs"]] == [f"line {i}" for i in range(0, 50, 10)]
    found = _get(server, f"/flow_runs/{run['id']}", log_search="ne 4")
    assert {x["message"] for x in found["logs"]} == {"line 4"} | {
        f"line {i}" for i in range(40, 50)
    }
    percent = _get(server, f"/flow_runs/{run['id']}", log_search="%")
    assert percent["logs"] == []


def test_mapped_children_page_counts_all_and_pages_some(
    server: LiveServer, client: Client, mapped_flow: dict[str, Any]
) -> None:
    run = client.create_flow_run(mapped_flow["id"], parameters={"who": "x"})
    mapped_run(client, run["id"], "square-1", 120, failed_every=7)
    first = _get(server, f"/flow_runs/{run['id']}/tasks/square-1", limit=50)
    assert first["counts"] == {"Success": 102, "Failed": 18}
    assert first["total"] == 120 and [c["map_index"] for c in first["children"]] == list(range(50))
    last = _get(server, f"/flow_runs/{run['id']}/tasks/square-1", limit=50, offset=100)
    assert [c["map_index"] for c in last["children"]] == list(range(100, 120))
    failed = _get(server, f"/flow_runs/{run['id']}/tasks/square-1", state="Failed", limit=5)
    assert failed["total"] == 18 and failed["counts"] == first["counts"]
    assert [c["map_index"] for c in failed["children"]] == [0, 7, 14, 21, 28]
    assert failed["children"][1]["state_message"] == "child 7 failed"
    missing = httpx.get(f"{server.url}/api/ui/flow_runs/{run['id']}/tasks/nope", timeout=30)
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_runs_list_filters_by_state_flow_label_and_time(
    server: LiveServer, client: Client, mapped_flow: dict[str, Any]
) -> None:
    other = client.register_document(flow_document("other"), project_name="ui")
    now = datetime.now(UTC)
    old = client.create_flow_run(
        other["id"], labels=["blue"], scheduled_start=now - timedelta(days=2)
    )
    failed = client.create_flow_run(mapped_flow["id"], parameters={"who": "x"}, labels=["red"])
    move_run(client, failed["id"], "Running", "Failed", message="it broke")
    client.create_flow_run(mapped_flow["id"], parameters={"who": "y"})

    everything = _get(server, "/flow_runs")
    assert everything["total"] == 3
    assert {f["name"] for f in everything["flows"]} == {"etl", "other"}
    by_state = _get(server, "/flow_runs", state="Failed")
    assert [r["id"] for r in by_state["runs"]] == [failed["id"]]
    assert by_state["runs"][0]["state_message"] == "it broke"
    assert by_state["runs"][0]["flow_name"] == "etl"
    by_flow = _get(server, "/flow_runs", flow_group_id=other["flow_group_id"])
    assert [r["id"] for r in by_flow["runs"]] == [old["id"]]
    assert [r["id"] for r in _get(server, "/flow_runs", label="red")["runs"]] == [failed["id"]]
    recent = _get(server, "/flow_runs", since=(now - timedelta(hours=1)).isoformat())
    assert recent["total"] == 2
    older = _get(server, "/flow_runs", until=(now - timedelta(days=1)).isoformat())
    assert [r["id"] for r in older["runs"]] == [old["id"]]
    paged = _get(server, "/flow_runs", limit=2, offset=2)
    assert paged["total"] == 3 and [r["id"] for r in paged["runs"]] == [old["id"]]


def test_dashboard_and_flows_list(
    server: LiveServer, client: Client, mapped_flow: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    ok = client.create_flow_run(mapped_flow["id"], parameters={"who": "a"})
    move_run(client, ok["id"], "Running")
    finish_task_runs(client, ok["id"])
    move_run(client, ok["id"], "Success")
    bad = client.create_flow_run(mapped_flow["id"], parameters={"who": "b"})
    mapped_run(client, bad["id"], "square-1", 20, failed_every=3)  # children 0, 3, 6... fail
    move_run(client, bad["id"], "Failed", message="disk full")
    late = client.create_flow_run(
        mapped_flow["id"], parameters={"who": "c"}, scheduled_start=now - timedelta(minutes=10)
    )
    soon = client.create_flow_run(
        mapped_flow["id"], parameters={"who": "d"}, scheduled_start=now + timedelta(hours=1)
    )
    client.register_agent("worker-1", labels=["gpu"], type="local")

    d = _get(server, "/dashboard")
    assert d["by_state"] == {"Success": 1, "Failed": 1, "Scheduled": 1}
    assert sum(sum(b["states"].values()) for b in d["by_hour"]) == 3
    assert len(d["by_hour"]) == 25
    assert [(f["id"], f["state_message"]) for f in d["failures"]] == [(bad["id"], "disk full")]
    child = client.get_task_runs(bad["id"], task_slug="square-1", state=["Failed"])[0]
    assert d["failures"][0]["task_failure"] == {
        "id": child["id"],
        "task_slug": "square-1",
        "task_name": "square",
        "map_index": 0,
        "state": "Failed",
        "message": "child 0 failed",
    }
    assert [r["id"] for r in d["late"]] == [late["id"]]
    assert [r["id"] for r in d["upcoming"]] == [soon["id"]]
    assert [(a["name"], a["labels"]) for a in d["agents"]] == [("worker-1", ["gpu"])]
    assert d["flows"] == 1 and d["running"] == 0

    flows = _get(server, "/flows")["flows"]
    assert len(flows) == 1 and flows[0]["runs"] == 4 and flows[0]["project"] == "ui"
    # the latest run that has started its time, not the one scheduled an hour ahead
    assert flows[0]["latest_run"]["state"] in {"Failed", "Success", "Scheduled"}
    assert flows[0]["latest_run"]["id"] != soon["id"]


def test_flow_page_has_graph_versions_and_run_form(server: LiveServer, client: Client) -> None:
    project = client.create_project("ui")
    first = client.register_document(_mapped_document(), project_id=project["id"])
    changed = _mapped_document()
    changed["tasks"][0]["name"] = "extract-v2"
    second = client.register_document(changed, project_id=project["id"])
    assert second["version"] == 2
    run = client.create_flow_run(second["id"], parameters={"who": "z"})
    page = _get(server, f"/flows/{second['id']}")
    assert page["flow"]["name"] == "etl" and page["flow"]["version"] == 2
    assert [v["version"] for v in page["versions"]] == [2, 1]
    assert page["versions"][1]["id"] == first["id"] and page["versions"][1]["archived"]
    assert {f["name"]: f["kind"] for f in page["parameters"]} == {"n": "integer", "who": "json"}
    square = next(n for n in page["graph"]["nodes"] if n["slug"] == "square-1")
    assert square["mapped"] is True
    assert [r["id"] for r in page["recent_runs"]] == [run["id"]]
    assert page["runs_by_state"] == {"Scheduled": 1}
    missing = httpx.get(f"{server.url}/api/ui/flows/not-a-flow", timeout=30)
    assert missing.status_code == 404


def test_pages_are_served_with_a_content_security_policy(server: LiveServer) -> None:
    for path in ("/", "/flows", "/flows/x", "/runs", "/runs/x", "/runs/x/tasks/a/b"):
        answer = httpx.get(server.url + path, timeout=30)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        assert '<script type="module" src="/ui/static/app.js">' in answer.text


def test_every_module_the_pages_import_is_served(server: LiveServer) -> None:
    """Walk the JS import graph from app.js: every module and asset exists and is served
    with a JavaScript type (a module with the wrong type is refused by the browser)."""
    pending, seen = ["app.js"], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        answer = httpx.get(f"{server.url}/ui/static/{name}", timeout=30)
        assert answer.status_code == 200, name
        assert "javascript" in answer.headers["content-type"], name
        base = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', answer.text):
            pending.append(posixpath.normpath(base + target))
    assert {"pages/run.js", "graph.js", "gantt.js", "dom.js"} <= seen
    on_disk = {str(p.relative_to(STATIC_DIR)) for p in STATIC_DIR.rglob("*.js")}
    assert on_disk == seen, f"modules nothing imports: {sorted(on_disk - seen)}"
    for asset in ("style.css", "favicon.svg"):
        assert httpx.get(f"{server.url}/ui/static/{asset}", timeout=30).status_code == 200
    assert json.loads(httpx.get(f"{server.url}/api/ui/dashboard", timeout=30).text)["hours"] == 24


def test_a_scheduled_flow_shows_its_schedule_and_upcoming_runs(
    server: LiveServer, client: Client
) -> None:
    schedule = {
        "type": "IntervalSchedule",
        "interval": 300.0,
        "start_date": "2026-01-01T00:00:00+00:00",
        "end_date": None,
    }
    client.create_project("ui")
    flow = client.register_document(flow_document("every-5m", schedule=schedule), project_name="ui")
    soon = client.create_flow_run(
        flow["id"], scheduled_start=datetime.now(UTC) + timedelta(minutes=5)
    )
    page = _get(server, f"/flows/{flow['id']}")
    assert page["schedule"]["interval"] == 300.0 and page["schedule_active"] is True
    assert [r["id"] for r in page["upcoming_runs"]] == [soon["id"]]
    assert page["recent_runs"] == []
    listed = _get(server, "/flows")["flows"]
    assert [(f["name"], f["scheduled"], f["latest_run"]) for f in listed] == [
        ("every-5m", True, None)
    ]


def test_states_come_from_the_engine_state_classes(server: LiveServer) -> None:
    from headrace.engine.state import KINDS
    from headrace.server.ui.states import group_of

    states = _get(server, "/states")["states"]
    names = [st["name"] for st in states]
    expected = [kind.__name__ for kind in KINDS]
    expected.insert(expected.index("Cancelled"), "Cancelling")  # the server's own state
    assert names == expected
    by_name = {st["name"]: st for st in states}
    for kind in KINDS:
        assert by_name[kind.__name__]["group"] == group_of(kind)
    assert by_name["TimedOut"] == {
        "name": "TimedOut",
        "group": "bad",
        "finished": True,
        "failed": True,
        "success": False,
    }
    assert by_name["Skipped"]["group"] == "skip" and by_name["Skipped"]["success"]
    assert by_name["Looped"]["group"] == "retry" and not by_name["Looped"]["finished"]
    assert by_name["Cancelling"]["group"] == "cancel" and not by_name["Cancelling"]["finished"]
    assert {st["group"] for st in states} == {
        "ok",
        "skip",
        "bad",
        "cancel",
        "retry",
        "run",
        "wait",
        "pending",
    }
    css = (STATIC_DIR / "style.css").read_text()
    for group in {st["group"] for st in states}:
        assert f".st-{group}" in css, f"style.css has no colour for st-{group}"
    states_js = (STATIC_DIR / "states.js").read_text()
    assert "TriggerFailed" not in states_js, "the UI must not keep its own list of states"
    # Every page's shell carries the same list as a JSON data block (no extra request).
    shell = httpx.get(f"{server.url}/runs", timeout=30).text
    block = re.search(
        r'<script type="application/json" id="headrace-states">(.*?)</script>', shell, re.S
    )
    assert block is not None and json.loads(block.group(1)) == {"states": states}
