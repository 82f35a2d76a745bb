"""Notification rules per flow, and artifacts of runs."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, status

from headrace.server.db.database import Database
from headrace.server.db.models import Artifact, NotificationRule, StateRecord, TaskRun, utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow, get_flow_group, get_flow_run
from headrace.server.errors import NotFoundError
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
        flow = get_flow(s, body.flow_id, who)
        rule = NotificationRule(
            flow_group_id=flow.flow_group_id,
            states=body.states,
            kind=body.kind,
            url=body.url,
            url_secret=body.url_secret,
            # Only what happens from now on is notified.
            cursor=int(s.scalar(sa.select(sa.func.coalesce(sa.func.max(StateRecord.id), 0))) or 0),
            created=utcnow(),
        )
        s.add(rule)
        s.flush()
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
        get_flow_group(s, flow_group_id, who)
        rows = s.scalars(
            sa.select(NotificationRule)
            .where(NotificationRule.flow_group_id == flow_group_id)
            .order_by(NotificationRule.created)
        )
        return [_rule_out(r) for r in rows]


@router.delete("/notification_rules/{rule_id}", status_code=204, tags=["notifications"])
def delete_rule(rule_id: str, db: Database = DB, who: Principal = WHO) -> None:
    with db.session() as s:
        rule = s.get(NotificationRule, rule_id)
        if rule is None:
            raise NotFoundError(f"notification rule {rule_id} not found", field="rule_id")
        get_flow_group(s, rule.flow_group_id, who)
        s.delete(rule)


@router.post(
    "/artifacts",
    response_model=ArtifactOut,
    status_code=status.HTTP_201_CREATED,
    tags=["artifacts"],
    summary="Attach a markdown, link or table artifact to a run (and its task run)",
)
def create_artifact(body: ArtifactIn, db: Database = DB, who: Principal = WHO) -> ArtifactOut:
    with db.session() as s:
        run = get_flow_run(s, body.flow_run_id, who)
        task_run_id = None
        if body.task_slug:
            task_run_id = s.scalar(
                sa.select(TaskRun.id).where(
                    TaskRun.flow_run_id == run.id,
                    TaskRun.task_slug == body.task_slug,
                    TaskRun.map_index == body.map_index,
                )
            )
        artifact = Artifact(
            flow_run_id=run.id,
            task_run_id=task_run_id,
            kind=body.kind,
            data=body.data,
            created=utcnow(),
        )
        s.add(artifact)
        s.flush()
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
        get_flow_run(s, flow_run_id, who)
        query = sa.select(Artifact).where(Artifact.flow_run_id == flow_run_id)
        if task_run_id is not None:
            query = query.where(Artifact.task_run_id == task_run_id)
        rows = s.scalars(query.order_by(Artifact.created, Artifact.id).limit(1000))
        return [ArtifactOut.model_validate(a) for a in rows]
