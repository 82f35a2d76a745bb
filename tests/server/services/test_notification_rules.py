"""Server-side notification rules: a run whose process died (failed by the reaper, where
no state handler runs) and a late run are each posted once to a real local HTTP receiver,
as a generic webhook and in Slack's shape (URL from a server secret)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.server.conftest import finish_task_runs

from headrace.client.errors import NotFoundError, ValidationError
from headrace.server.services import mark_late_runs, reap_zombies, send_notifications


def _running(client, flow_id: str) -> str:
    run_id = client.create_flow_run(flow_id)["id"]
    agent = client.register_agent("a")
    client.claim_flow_runs(agent["id"])
    client.set_flow_run_state(run_id, "Running")
    return run_id


def test_a_dead_runs_failure_is_posted_once(client, server, flow_id, http_receiver) -> None:
    url, received = http_receiver
    rule = client.create_notification_rule(flow_id, ["Failed"], url=f"{url}/hook")
    assert rule["url_host"] == "http://127.0.0.1" and "url" not in rule
    done = _running(client, flow_id)
    finish_task_runs(client, done)
    client.set_flow_run_state(done, "Success")
    dead = _running(client, flow_id)
    later = datetime.now(UTC) + timedelta(seconds=server.settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, server.settings, later) == 1
    assert send_notifications(server.db, server.settings) == 1
    assert send_notifications(server.db, server.settings) == 0  # once
    (post,) = received
    assert post["path"] == "/hook"
    body = post["json"]
    assert (body["flow_run_id"], body["state"], body["flow_name"]) == (dead, "Failed", "etl")
    assert "no heartbeat" in body["message"]


def test_late_runs_in_slacks_shape_with_the_url_from_a_secret(
    client, server, flow_id, http_receiver
) -> None:
    url, received = http_receiver
    client.set_secret("OPS_SLACK", f"{url}/slack/T000/B000/XXXX")
    client.create_notification_rule(flow_id, ["Late"], url_secret="OPS_SLACK", kind="slack")
    past = datetime.now(UTC) - timedelta(minutes=5)
    run = client.create_flow_run(flow_id, scheduled_start=past)
    assert mark_late_runs(server.db, server.settings) == 1
    assert send_notifications(server.db, server.settings) == 1
    assert send_notifications(server.db, server.settings) == 0
    (post,) = received
    assert post["path"] == "/slack/T000/B000/XXXX"
    assert post["json"]["text"] == f"Flow run {run['name']!r} of 'etl' is Late: not started on time"
    listed = client.get_notification_rules(client.get_flow(flow_id)["flow_group_id"])
    assert listed[0]["url_secret"] == "OPS_SLACK" and listed[0]["url_host"] is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"states": ["Exploded"], "url": "http://127.0.0.1/x"}, "unknown state 'Exploded'"),
        ({"states": ["Failed"]}, "exactly one of url and url_secret"),
        ({"states": ["Failed"], "url": "ftp://x"}, "url"),
        ({"states": ["Failed"], "url": "http://x", "kind": "pager"}, "kind"),
    ],
)
def test_bad_rules_are_refused(client, flow_id, body: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        client.request("POST", "/notification_rules", json={"flow_id": flow_id, **body})
    assert fragment in str(info.value)


def test_rules_are_deleted(client, flow_id) -> None:
    rule = client.create_notification_rule(flow_id, ["Failed"], url="http://127.0.0.1:9/x")
    client.delete_notification_rule(rule["id"])
    with pytest.raises(NotFoundError):
        client.delete_notification_rule(rule["id"])
