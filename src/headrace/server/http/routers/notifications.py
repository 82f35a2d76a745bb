"""Notification rules per flow, and artifacts of runs."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, status

from headrace.server.db.database import Database
from headrace.server.db.models import NotificationRule, utcnow
from headrace.server.domain import artifacts, notification_rules
from headrace.server.domain.auth import Principal
from headrace.server.http.deps import DB, WHO
from headrace.wire import (
    ArtifactIn,
    ArtifactOut,
    NotificationRuleIn,
    NotificationRuleOut,
)

__all__ = ["router"]

router = APIRouter()


def _rule_out(rule: NotificationRule) -> NotificationRuleOut:
    out = NotificationRuleOut.model_validate(rule)
    if rule.url:
        parts = urlsplit(rule.url)
        out.url_host = f"{parts.scheme}://{parts.hostname}"
    return out


@router.post(
    "/notification_rules",
    response_model=NotificationRuleOut,
    status_code=status.HTTP_201_CREATED,
    tags=["notifications"],
    summary="Post to a webhook when the flow's runs enter the given states",
)
def create_rule(
    body: NotificationRuleIn, db: Database = DB, who: Principal = WHO
) -> NotificationRuleOut:
    with db.session() as s:
        rule = notification_rules.create_rule(
            s,
            who,
            body.flow_id,
            states=body.states,
            kind=body.kind,
            url=body.url,
            url_secret=body.url_secret,
            now=utcnow(),
        )
        return _rule_out(rule)


@router.get(
    "/notification_rules",
    response_model=list[NotificationRuleOut],
    tags=["notifications"],
    summary="A flow group's rules (literal URLs shown as their host only)",
)
def list_rules(
    flow_group_id: str, db: Database = DB, who: Principal = WHO
) -> list[NotificationRuleOut]:
    with db.session(write=False) as s:
        return [_rule_out(r) for r in notification_rules.list_rules(s, who, flow_group_id)]


@router.delete("/notification_rules/{rule_id}", status_code=204, tags=["notifications"])
def delete_rule(rule_id: str, db: Database = DB, who: Principal = WHO) -> None:
    with db.session() as s:
        notification_rules.delete_rule(s, who, rule_id)


@router.post(
    "/artifacts",
    response_model=ArtifactOut,
    status_code=status.HTTP_201_CREATED,
    tags=["artifacts"],
    summary="Attach a markdown, link or table artifact to a run (and its task run)",
)
def create_artifact(body: ArtifactIn, db: Database = DB, who: Principal = WHO) -> ArtifactOut:
    with db.session() as s:
        artifact = artifacts.create_artifact(
            s,
            who,
            body.flow_run_id,
            task_slug=body.task_slug,
            map_index=body.map_index,
            kind=body.kind,
            data=body.data,
            now=utcnow(),
        )
        return ArtifactOut.model_validate(artifact)


@router.get(
    "/flow_runs/{flow_run_id}/artifacts",
    response_model=list[ArtifactOut],
    tags=["artifacts"],
    summary="A run's artifacts, oldest first",
)
def list_artifacts(
    flow_run_id: str, task_run_id: str | None = None, db: Database = DB, who: Principal = WHO
) -> list[ArtifactOut]:
    with db.session(write=False) as s:
        rows = artifacts.list_artifacts(s, who, flow_run_id, task_run_id)
        return [ArtifactOut.model_validate(a) for a in rows]
