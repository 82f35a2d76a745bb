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


def _running_with(client: Client, flow_id: str, children: int, logs: list[dict]) -> str:
    """A new Running run of ``flow_id`` with ``children`` Running children of transform-1
    and ``logs``, reported as a runner would; its id."""
    rid = client.create_flow_run(flow_id)["id"]
    client.set_flow_run_state(rid, "Running")
    rows = [[0, i, "Running", None, "Starting task run.", None, 0] for i in range(children)]
    task_states = {"tasks": [{"task_slug": "transform-1"}], "rows": rows}
    client.report(rid, {"task_states": task_states, "logs": logs})
    return str(rid)


def test_task_runs_and_logs_page_by_cursor(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    rid = _running_with(client, flow_id, 7, [{"message": f"line {i}"} for i in range(5)])
    url = f"{server.url}/api/flow_runs/{rid}/task_runs"
    everything = client.get_task_runs(rid)
    paged, answers = _pages(url, {"limit": 3})
    assert paged == everything and len(everything) == 10 and len(answers) == 4
    kids, _ = _pages(url, {"limit": 2, "task_slug": "transform-1", "min_map_index": 0})
    assert [k["map_index"] for k in kids] == list(range(7))
    assert kids[0]["start_time"] is not None and kids[0]["run_count"] == 1
    # a listed row is what the one-task-run route (its response model) gives: timestamps
    # and JSON columns made by the database read back the same
    for kid in (kids[0], everything[0]):
        one = httpx.get(f"{server.url}/api/task_runs/{kid['id']}").json()
        assert kid == {k: one[k] for k in kid}, (kid, one)
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


def test_filters_alone_and_together_select_exactly_the_rows_they_name(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    """Each list statement is built once per combination of filters and reused with new
    values: every combination, asked twice with different values, answers what filtering
    all rows in Python gives."""
    made = [client.create_flow_run(flow_id, labels=["gpu"] if i % 2 else []) for i in range(6)]
    client.cancel_flow_run(made[0]["id"])
    client.cancel_flow_run(made[3]["id"])
    every = {r["id"]: r for r in client.get_flow_runs(limit=1000)}
    with_label = {m["id"] for i, m in enumerate(made) if i % 2}
    for state in ("Cancelled", "Scheduled"):
        for label in (None, "gpu"):
            for prefix in (None, made[3]["id"][:6], made[4]["id"][:4]):
                query: dict[str, Any] = {"state": [state]}
                if label:
                    query["label"] = label
                if prefix:
                    query["id_prefix"] = prefix
                want = [
                    rid
                    for rid, r in every.items()
                    if r["state"] == state
                    and (label is None or rid in with_label)
                    and (prefix is None or rid.startswith(prefix))
                ]
                got = [r["id"] for r in client.get_flow_runs(**query, limit=1000)]
                assert got == want, query
    # LIKE's wildcards in a prefix are taken literally
    assert client.get_flow_runs(id_prefix="_") == []
    assert client.get_flow_runs(id_prefix="%") == []
    assert [r["id"] for r in client.get_flow_runs(is_late=False, order="oldest", limit=2)] == [
        r["id"] for r in sorted(every.values(), key=lambda r: (r["scheduled_start"], r["id"]))[:2]
    ]


def test_task_run_and_log_filters_select_exactly_the_rows_they_name(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    logs = [{"message": f"line {i}", "level": 40 if i % 3 == 0 else 20} for i in range(9)]
    rid = _running_with(client, flow_id, 9, logs)
    everything = client.get_task_runs(rid)
    for low, high in ((2, 5), (0, 0), (7, 100)):
        got = client.get_task_runs(rid, min_map_index=low, max_map_index=high)
        assert got == [t for t in everything if low <= t["map_index"] <= high]
    parents = client.get_task_runs(rid, include_children=False)
    assert parents == [t for t in everything if t["map_index"] == -1] and parents
    lines = client.get_logs(rid)
    assert [x["message"] for x in client.get_logs(rid, level=40)] == ["line 0", "line 3", "line 6"]
    after = lines[4]["id"]
    assert client.get_logs(rid, after_id=after) == lines[5:]
    assert client.get_logs(rid, after_id=after, level=40) == [lines[6]]
    assert client.get_logs(rid, search="LINE 1") == [lines[1]]
