"""Notification rules as stored: create, list and delete a flow group's rules.

A rule posts to a webhook (or Slack) when a run of its flow group enters one of its states;
the notifier service (:mod:`headrace.server.services.notify`) reads the state history from
the rule's ``cursor`` on. A new rule starts at the newest history record, so only what
happens from its creation on is notified.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import NotificationRule, StateRecord
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow, get_flow_group
from headrace.server.errors import NotFoundError

__all__ = ["create_rule", "delete_rule", "list_rules"]


def create_rule(
    session: Session,
    who: Principal,
    flow_id: str,
    *,
    states: list[str],
    kind: str,
    url: str | None,
    url_secret: str | None,
    now: datetime,
) -> NotificationRule:
    """A rule for the flow group of ``flow_id`` (which ``who`` must see)."""
    flow = get_flow(session, flow_id, who)
    rule = NotificationRule(
        flow_group_id=flow.flow_group_id,
        states=states,
        kind=kind,
        url=url,
        url_secret=url_secret,
        # Only what happens from now on is notified.
        cursor=int(
            session.scalar(sa.select(sa.func.coalesce(sa.func.max(StateRecord.id), 0))) or 0
        ),
        created=now,
    )
    session.add(rule)
    session.flush()
    return rule


def list_rules(session: Session, who: Principal, flow_group_id: str) -> list[NotificationRule]:
    """A flow group's rules, oldest first."""
    get_flow_group(session, flow_group_id, who)
    rows = session.scalars(
        sa.select(NotificationRule)
        .where(NotificationRule.flow_group_id == flow_group_id)
        .order_by(NotificationRule.created)
    )
    return list(rows)


def delete_rule(session: Session, who: Principal, rule_id: str) -> None:
    """Delete rule ``rule_id`` (:class:`NotFoundError` if absent or not ``who``'s to see)."""
    rule = session.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFoundError(f"notification rule {rule_id} not found", field="rule_id")
    get_flow_group(session, rule.flow_group_id, who)
    session.delete(rule)
