"""Log retention (``server.log_retention_days``) on a real SQLite file and a real
PostgreSQL server: old lines go in small batches, younger ones and other data stay."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from tests.server.conftest import make_settings

from headrace.server.services import SERVICES, ServiceLoop, delete_old_logs, retention


def _log(client, run_id: str, when: datetime, message: str) -> None:
    client.report(run_id, {"logs": [{"message": message, "timestamp": when.isoformat()}]})


def _messages(client, run_id: str) -> list[str]:
    return [line["message"] for line in client.get_logs(run_id, limit=10000)]


def test_old_logs_are_deleted_in_batches_and_young_ones_kept(client, server, flow_id) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    other = client.create_flow_run(flow_id)["id"]
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    for i in range(7):
        _log(client, run_id, old + timedelta(minutes=i), f"old-{i}")
    _log(client, other, old, "old-other")
    _log(client, run_id, now - timedelta(days=1), "young")
    # shipped late with an old timestamp, after a young line: it waits for a later pass
    _log(client, run_id, old, "late-old")
    settings = make_settings(
        server.settings.database_url, log_retention_days=30, log_retention_batch_size=3
    )
    assert delete_old_logs(server.db, settings, now) == 8
    assert _messages(client, run_id) == ["young", "late-old"]
    assert _messages(client, other) == []
    assert client.get_flow_run(run_id)["state"] == "Scheduled"  # the runs themselves stay
    assert delete_old_logs(server.db, settings, now) == 0
    # 30 days on, the young line is 31 days old: it goes, and the late old line with it
    later = now + timedelta(days=30)
    assert delete_old_logs(server.db, settings, later) == 2
    assert _messages(client, run_id) == []


def test_each_batch_is_its_own_short_transaction(client, server, flow_id, monkeypatch) -> None:
    """A pass stops after MAX_BATCHES_PER_PASS batches; the rest goes on the next pass."""
    run_id = client.create_flow_run(flow_id)["id"]
    old = datetime.now(UTC) - timedelta(days=100)
    client.report(
        run_id,
        {"logs": [{"message": f"m{i}", "timestamp": old.isoformat()} for i in range(10)]},
    )
    monkeypatch.setattr(retention, "MAX_BATCHES_PER_PASS", 2)
    sessions: list[bool] = []
    original = server.db.session

    def counting(write: bool = True):
        sessions.append(write)
        return original(write)

    monkeypatch.setattr(server.db, "session", counting)
    settings = make_settings(
        server.settings.database_url, log_retention_days=1, log_retention_batch_size=3
    )
    assert delete_old_logs(server.db, settings) == 6
    assert sessions == [False, True, True]  # the boundary read, then one write per batch
    # while the service holds no transaction, a runner's report goes through
    writer = threading.Thread(target=_log, args=(client, run_id, old, "meanwhile"))
    writer.start()
    writer.join(30)
    assert delete_old_logs(server.db, settings) == 5
    assert _messages(client, run_id) == []


def test_zero_keeps_logs_forever_and_the_loop_runs_retention(client, server, flow_id) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    ancient = datetime(2001, 1, 1, tzinfo=UTC)
    _log(client, run_id, ancient, "ancient")
    forever = make_settings(server.settings.database_url, log_retention_days=0)
    assert delete_old_logs(server.db, forever) == 0
    assert _messages(client, run_id) == ["ancient"]
    assert SERVICES["log_retention"] is delete_old_logs
    done = ServiceLoop(server.db, make_settings(server.settings.database_url)).run_once()
    assert done["log_retention"] == 1  # the default (30 days) applies
    assert _messages(client, run_id) == []
