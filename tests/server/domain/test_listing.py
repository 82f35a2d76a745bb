"""List routes read columns and page by keyset: a full page names the next one's cursor."""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.headrace_server import LiveServer

from headrace.client import Client


def _pages(url: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Every row of a list route, following ``X-Next-Cursor`` from the first page."""
    rows: list[dict[str, Any]] = []
    answers = []
    query = dict(params)
    while True:
        answer = httpx.get(url, params=query)
        assert answer.status_code == 200, answer.text
        answers.append(answer)
        rows += answer.json()
        cursor = answer.headers.get("x-next-cursor")
        if cursor is None:
            return rows, answers
        assert answer.headers["link"].endswith('; rel="next"')
        assert f"cursor={cursor}" in answer.headers["link"]
        query = {**params, "cursor": cursor}


def test_flow_runs_page_by_cursor_like_by_offset(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    made = [client.create_flow_run(flow_id) for _ in range(5)]
    url = f"{server.url}/api/flow_runs"
    for order in ("newest", "oldest"):
        by_offset = client.request("GET", "/flow_runs", params={"order": order, "limit": 100})
        rows, answers = _pages(url, {"order": order, "limit": 2})
        assert [r["id"] for r in rows] == [r["id"] for r in by_offset]
        assert len(answers) == 3  # 2 + 2 + 1: the last, partial page names no next one
        assert "x-next-cursor" not in answers[-1].headers
    # the list's rows are exactly what the one-run route gives (less the counts)
    one = client.get_flow_run(made[0]["id"])
    listed = {r["id"]: r for r in rows}[made[0]["id"]]
    assert listed == {**one, "task_run_counts": None}


def test_task_runs_and_logs_page_by_cursor(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    rid = client.create_flow_run(flow_id)["id"]
    client.set_flow_run_state(rid, "Running")
    rows = [[0, i, "Running", None, "Starting task run.", None, 0] for i in range(7)]
    logs = [{"message": f"line {i}"} for i in range(5)]
    client.report(
        rid, {"task_states": {"tasks": [{"task_slug": "transform-1"}], "rows": rows}, "logs": logs}
    )
    url = f"{server.url}/api/flow_runs/{rid}/task_runs"
    everything = client.get_task_runs(rid)
    paged, answers = _pages(url, {"limit": 3})
    assert paged == everything and len(everything) == 10 and len(answers) == 4
    kids, _ = _pages(url, {"limit": 2, "task_slug": "transform-1", "min_map_index": 0})
    assert [k["map_index"] for k in kids] == list(range(7))
    assert kids[0]["start_time"] is not None and kids[0]["run_count"] == 1
    lines, _ = _pages(f"{server.url}/api/flow_runs/{rid}/logs", {"limit": 2})
    assert [line["message"] for line in lines] == [f"line {i}" for i in range(5)]


def test_a_cursor_is_checked(client: Client, server: LiveServer, flow_id: str) -> None:
    rid = client.create_flow_run(flow_id)["id"]
    client.create_flow_run(flow_id)
    runs = httpx.get(f"{server.url}/api/flow_runs", params={"limit": 1})
    cursor = runs.headers["x-next-cursor"]
    for url, bad in (
        (f"{server.url}/api/flow_runs", "bm90LWpzb24"),  # base64 of text that is not JSON
        (f"{server.url}/api/flow_runs", cursor[:-3]),  # cut
        (f"{server.url}/api/flow_runs/{rid}/task_runs", cursor),  # another route's
        (f"{server.url}/api/flow_runs/{rid}/logs", cursor),
    ):
        answer = httpx.get(url, params={"cursor": bad})
        assert answer.status_code == 422, (url, bad, answer.text)
        assert answer.json()["field"] in ("cursor", "query.cursor")
    # the oldest-first order does not take a newest-first cursor either
    wrong = httpx.get(f"{server.url}/api/flow_runs", params={"order": "oldest", "cursor": cursor})
    assert wrong.status_code == 422
    assert httpx.get(f"{server.url}/api/flow_runs", params={"cursor": "a!"}).status_code == 422
