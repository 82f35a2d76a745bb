"""Report bodies parsed by orjson (:mod:`headrace.server.http.fast_json`) answer as the
standard parser's routes do."""

from __future__ import annotations

import math
from typing import Any

import anyio
import httpx
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.server.http.fast_json import FastJSONRequest


def _parsed(raw: bytes) -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def main() -> Any:
        scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
        return await FastJSONRequest(scope, receive).json()

    return anyio.run(main)


def test_what_orjson_refuses_is_parsed_by_the_standard_library() -> None:
    big = 123456789012345678901234567890  # beyond 64 bits: orjson would make it a float
    assert _parsed(b'{"n": %d}' % big) == {"n": big}
    assert math.isnan(_parsed(b'{"x": NaN}')["x"])
    assert _parsed(b'{"a": [1, "b", null]}') == {"a": [1, "b", None]}


def test_a_broken_report_body_is_the_same_422_as_elsewhere(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    rid = client.create_flow_run(flow_id)["id"]
    headers = {"content-type": "application/json"}
    broken = b'{"logs": [ {"message": "x"} '
    report = httpx.post(f"{server.url}/api/flow_runs/{rid}/report", content=broken, headers=headers)
    create = httpx.post(f"{server.url}/api/flow_runs", content=broken, headers=headers)
    assert report.status_code == create.status_code == 422
    assert report.json()["code"] == create.json()["code"]
    assert report.json()["detail"] == create.json()["detail"]
    # and a good one is applied
    good = httpx.post(
        f"{server.url}/api/flow_runs/{rid}/report",
        content=b'{"logs": [{"message": "hello \\u00e9"}]}',
        headers=headers,
    )
    assert good.status_code == 200, good.text
    assert [line["message"] for line in client.get_logs(rid)] == ["hello é"]
