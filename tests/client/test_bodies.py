"""The client checks its bodies against the wire schema the server validates with: a body
the server would refuse is refused before it is sent, with the server's own answer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from tests.support.headrace_server import LiveServer

from headrace.client import Client, ValidationError


@pytest.fixture
def client(live_server: LiveServer) -> Client:
    return Client(live_server.url, retries=0)


def _server_answer(live: LiveServer, path: str, body: object) -> dict[str, object]:
    answer = httpx.post(f"{live.url}/api{path}", json=body)
    assert answer.status_code == 422
    return dict(answer.json())


def test_a_bad_label_is_refused_as_the_server_would(
    live_server: LiveServer, client: Client
) -> None:
    with pytest.raises(ValidationError) as refused:
        client.register_agent("a1", labels=["ok", " bad label"])
    server = _server_answer(
        live_server, "/agents", {"name": "a1", "labels": ["ok", " bad label"], "type": ""}
    )
    assert refused.value.status == 422
    assert refused.value.code == server["code"] == "validation_error"
    assert refused.value.field == server["field"] == "labels.1"
    assert refused.value.detail == server["detail"]
    assert client.get_agents() == []  # nothing reached the server


def test_a_bad_item_of_a_list_body_names_its_position(
    live_server: LiveServer, client: Client
) -> None:
    records = [{"flow_run_id": "x", "message": "fine"}, {"flow_run_id": "x", "level": True}]
    with pytest.raises(ValidationError) as refused:
        client.write_logs(records)
    server = _server_answer(live_server, "/logs", records)
    assert refused.value.field == server["field"] == "1.level"
    assert refused.value.detail == server["detail"]


def test_an_unsendable_value_is_refused_naming_it(client: Client) -> None:
    with pytest.raises(ValidationError, match="cannot be sent as JSON"):
        client.create_flow_run("some-flow", parameters={"when": object()})


def test_valid_bodies_keep_their_meaning(client: Client, tmp_path) -> None:
    from headrace import Flow, task
    from headrace.storage import Local

    @task
    def one() -> int:
        return 1

    with Flow("bodies", storage=Local(directory=str(tmp_path / "flows"))) as flow:
        one()
    flow_id = client.register(flow, project_name="p", labels=["here"])
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    run = client.create_flow_run(flow_id, scheduled_start=when, labels=["b", "a", "a"])
    stored = client.get_flow_run(run["id"])
    assert stored["labels"] == ["a", "b"]
    assert datetime.fromisoformat(stored["scheduled_start"]) == when
