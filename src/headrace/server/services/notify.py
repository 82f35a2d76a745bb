"""Server-side notifications: each flow's rules post to a webhook when one of its runs
enters a state the rule names (``Failed``, ``Cancelled``..., or ``Late``).

This is what tells a person about a run whose process died: the reaper (or the agent) fails
it from outside, where no state handler runs, and the state record it writes is what this
step reads. Each notification is sent once (a ``notifications_sent`` row per rule and event,
inserted before posting, so two server processes never both send it); a receiver that is
down loses that notification, which is logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.database import Database
from headrace.server.db.models import (
    Flow,
    FlowRun,
    NotificationRule,
    NotificationSent,
    StateRecord,
    utcnow,
)
from headrace.server.settings import ServerSettings
from headrace.utilities.logging import get_logger

__all__ = ["LATE", "notification_body", "send_notifications"]

LATE = "Late"
BATCH = 500
logger = get_logger("server.notify")


def notification_body(kind: str, run: FlowRun, flow_name: str, state: str, message: str) -> Any:
    """The JSON posted: Slack's incoming-webhook shape, or a plain object for webhooks."""
    text = f"Flow run {run.name!r} of {flow_name!r} is {state}" + (
        f": {message}" if message else ""
    )
    if kind == "slack":
        return {
            "text": text,
            "attachments": [
                {
                    "color": "#2a2" if state == "Success" else "#d33",
                    "fields": [
                        {"title": "State", "value": state, "short": True},
                        {"title": "Flow", "value": flow_name, "short": True},
                        {"title": "Run id", "value": run.id, "short": False},
                    ],
                }
            ],
        }
    return {
        "flow_run_id": run.id,
        "flow_run_name": run.name,
        "flow_name": flow_name,
        "state": state,
        "message": message,
        "text": text,
    }


def _claim(session: Session, rule_id: str, key: str, now: datetime) -> bool:
    """Record that ``key`` is being sent for ``rule_id``; False when it already was."""
    exists = session.get(NotificationSent, (rule_id, key))
    if exists is not None:
        return False
    session.add(NotificationSent(rule_id=rule_id, key=key, created=now))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def _url(session: Session, rule: NotificationRule, settings: ServerSettings) -> str | None:
    if rule.url:
        return rule.url
    if rule.url_secret:
        from headrace.server.domain.secrets import load_fernet, read_secret

        try:
            return read_secret(session, load_fernet(settings.secrets_key), rule.url_secret)
        except Exception as exc:
            logger.warning("notification rule %s: secret %r: %s", rule.id, rule.url_secret, exc)
    return None


def _events(session: Session, rule: NotificationRule) -> list[tuple[str, FlowRun, str, str]]:
    """(key, run, state, message) of what ``rule`` has not looked at yet."""
    found: list[tuple[str, FlowRun, str, str]] = []
    names = [s for s in rule.states if s != LATE]
    if names:
        rows = session.execute(
            sa.select(StateRecord.id, StateRecord.name, StateRecord.message, FlowRun)
            .join(FlowRun, FlowRun.id == StateRecord.flow_run_id)
            .where(
                FlowRun.flow_group_id == rule.flow_group_id,
                StateRecord.task_run_id.is_(None),
                StateRecord.id > rule.cursor,
            )
            .order_by(StateRecord.id)
            .limit(BATCH)
        ).all()
        for record_id, name, message, run in rows:
            if name in names:
                found.append((f"state:{record_id}", run, name, message or ""))
        if rows:
            rule.cursor = int(rows[-1][0])
    if LATE in rule.states:
        late = session.scalars(
            sa.select(FlowRun).where(
                FlowRun.flow_group_id == rule.flow_group_id,
                FlowRun.is_late.is_(True),
                FlowRun.state == "Scheduled",
            )
        )
        found.extend((f"late:{run.id}", run, LATE, "not started on time") for run in late)
    return found


def send_notifications(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """One pass over every rule; returns how many notifications were posted."""
    import httpx

    now = now or utcnow()
    sent = 0
    with db.session(write=False) as s:
        rule_ids = list(s.scalars(sa.select(NotificationRule.id)))
    for rule_id in rule_ids:
        outbox: list[tuple[str, Any]] = []
        with db.session() as s:
            rule = s.get(NotificationRule, rule_id)
            if rule is None:
                continue
            url = _url(s, rule, settings)
            for key, run, state, message in _events(s, rule):
                if url and _claim(s, rule.id, key, now):
                    flow_name = s.scalar(sa.select(Flow.name).where(Flow.id == run.flow_id))
                    body = notification_body(rule.kind, run, str(flow_name), state, message)
                    outbox.append((url, body))
        for target, body in outbox:
            try:
                httpx.post(target, json=body, timeout=10.0).raise_for_status()
                sent += 1
            except httpx.HTTPError as exc:
                # The URL may hold a token (Slack's do): name only what went wrong.
                status = getattr(getattr(exc, "response", None), "status_code", None)
                logger.warning(
                    "notification rule %s: could not post (%s%s)",
                    rule_id,
                    type(exc).__name__,
                    f" {status}" if status else "",
                )
    return sent
