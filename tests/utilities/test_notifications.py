"""Notification state handlers delivering to real local servers: a Slack-compatible and a
generic webhook (an HTTP server on 127.0.0.1) and email (aiosmtpd on 127.0.0.1), each
filtered by state."""

from __future__ import annotations

from headrace import Flow, context, task
from headrace.engine.signals import FAIL
from headrace.engine.state import Failed, Success, TimedOut
from headrace.utilities.notifications import email_notifier, slack_notifier, webhook_notifier


def _flow(handlers: list, fail: bool) -> Flow:
    @task(state_handlers=handlers)
    def work() -> int:
        if fail:
            raise FAIL("the database is down")
        return 1

    with Flow("notify-me") as flow:
        work()
    return flow


def test_slack_notifier_posts_only_the_states_asked_for(http_receiver) -> None:
    url, received = http_receiver
    handler = slack_notifier(webhook_url=f"{url}/slack", only_states=[Failed])
    assert _flow([handler], fail=False).run().is_successful()
    assert received == []  # Running and Success are not Failed
    assert _flow([handler], fail=True).run().is_failed()
    (post,) = received
    assert post["path"] == "/slack"
    assert post["json"]["text"] == "Task 'work' is now Failed: the database is down"
    fields = {f["title"]: f["value"] for f in post["json"]["attachments"][0]["fields"]}
    assert fields == {"State": "Failed", "Flow": "notify-me", "Message": "the database is down"}


def test_webhook_notifier_on_a_flow_with_its_url_from_a_secret(http_receiver) -> None:
    url, received = http_receiver
    flow = _flow([], fail=False)
    flow.state_handlers = [webhook_notifier(url_secret="HOOK", ignore_states=[Failed])]
    with context(secrets={"HOOK": f"{url}/hook"}):
        assert flow.run().is_successful()
    states = [p["json"]["state"] for p in received]
    assert states == ["Running", "Success"]
    assert received[-1]["json"]["kind"] == "flow" and received[-1]["json"]["name"] == "notify-me"


def test_subclasses_count_and_called_directly_it_is_a_handler(http_receiver) -> None:
    url, received = http_receiver
    new = TimedOut("too slow")
    assert webhook_notifier(None, Success(), new, url=url, only_states=[Failed]) is new
    assert received[0]["json"]["state"] == "TimedOut"


def test_email_notifier_sends_through_smtp(smtp_receiver) -> None:
    port, received = smtp_receiver
    handler = email_notifier(
        to=["ops@example.com", "dev@example.com"], smtp_port=port, only_states=[Failed]
    )
    assert _flow([handler], fail=True).run().is_failed()
    (mail,) = received
    assert mail["To"] == "ops@example.com, dev@example.com"
    assert mail["Subject"] == "[headrace] Task 'work' is now Failed: the database is down"
    assert "flow: notify-me" in mail.get_payload()


def test_an_unreachable_receiver_never_changes_the_run() -> None:
    import logging

    from headrace.utilities.notifications import logger
    from support.processes import free_port

    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        dead = f"http://127.0.0.1:{free_port()}/x"
        assert _flow([slack_notifier(webhook_url=dead)], fail=False).run().is_successful()
    finally:
        logger.removeHandler(handler)
    assert any("could not deliver" in m for m in seen), seen
