"""Health, concurrency limits and API keys."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, status

from headrace.server.db.database import Database, rowcount
from headrace.server.db.models import ApiKey, ConcurrencyLimit, FlowRun, FlowRunLabel, TaskRun
from headrace.server.domain.auth import Principal, create_api_key
from headrace.server.domain.claim import ACTIVE_STATES
from headrace.server.errors import NotFoundError
from headrace.server.http.deps import DB, WHO
from headrace.wire import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ConcurrencyLimitIn,
    ConcurrencyLimitOut,
)

__all__ = ["router"]

router = APIRouter()
Kind = Literal["task_tag", "flow_label"]


@router.get("/health", tags=["admin"], summary="Liveness and the database in use")
def health(db: Database = DB) -> dict[str, str]:
    from headrace._version import __version__

    with db.session(write=False) as s:
        s.execute(sa.text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": db.dialect}


def _active(session: sa.orm.Session, row: ConcurrencyLimit) -> int:
    if row.kind == "flow_label":
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(FlowRunLabel)
                .join(FlowRun, FlowRun.id == FlowRunLabel.flow_run_id)
                .where(FlowRunLabel.label == row.name, FlowRun.state.in_(ACTIVE_STATES))
            )
            or 0
        )
    tags = session.scalars(sa.select(TaskRun.tags).where(TaskRun.state == "Running"))
    return sum(row.name in t for t in tags)


@router.get(
    "/concurrency_limits",
    response_model=list[ConcurrencyLimitOut],
    tags=["concurrency limits"],
    summary="Every limit with its current active count",
)
def list_limits(db: Database = DB, who: Principal = WHO) -> list[ConcurrencyLimitOut]:
    with db.session(write=False) as s:
        rows = s.scalars(
            sa.select(ConcurrencyLimit).order_by(ConcurrencyLimit.kind, ConcurrencyLimit.name)
        )
        out = []
        for row in rows:
            item = ConcurrencyLimitOut.model_validate(row)
            item.active = _active(s, row)
            out.append(item)
        return out


@router.put(
    "/concurrency_limits/{kind}/{name}",
    response_model=ConcurrencyLimitOut,
    tags=["concurrency limits"],
    summary="Create or change a limit",
)
def put_limit(
    kind: Kind, name: str, body: ConcurrencyLimitIn, db: Database = DB, who: Principal = WHO
) -> ConcurrencyLimitOut:
    who.require_admin("changing concurrency limits")
    with db.session() as s:
        row = s.scalar(
            sa.select(ConcurrencyLimit).where(
                ConcurrencyLimit.kind == kind, ConcurrencyLimit.name == name
            )
        )
        if row is None:
            row = ConcurrencyLimit(kind=kind, name=name, limit=body.limit)
            s.add(row)
        row.limit = body.limit
        s.flush()
        return ConcurrencyLimitOut.model_validate(row)


@router.delete("/concurrency_limits/{kind}/{name}", status_code=204, tags=["concurrency limits"])
def delete_limit(kind: Kind, name: str, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("changing concurrency limits")
    with db.session() as s:
        n = rowcount(
            s.execute(
                sa.delete(ConcurrencyLimit).where(
                    ConcurrencyLimit.kind == kind, ConcurrencyLimit.name == name
                )
            )
        )
        if not n:
            raise NotFoundError(f"no {kind} concurrency limit named {name!r}")


@router.post(
    "/api_keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["api keys"],
    summary="Create a key; the clear key is in this answer only",
)
def create_key(body: ApiKeyIn, db: Database = DB, who: Principal = WHO) -> ApiKeyCreated:
    who.require_admin("creating API keys")
    with db.session() as s:
        row, key = create_api_key(s, body.name, body.project_ids)
        return ApiKeyCreated(key=key, **ApiKeyOut.model_validate(row).model_dump())


@router.get("/api_keys", response_model=list[ApiKeyOut], tags=["api keys"])
def list_keys(db: Database = DB, who: Principal = WHO) -> list[ApiKeyOut]:
    who.require_admin("listing API keys")
    with db.session(write=False) as s:
        keys = s.scalars(sa.select(ApiKey).where(ApiKey.flow_run_id.is_(None)))
        return [ApiKeyOut.model_validate(k) for k in keys]


@router.delete("/api_keys/{key_id}", status_code=204, tags=["api keys"])
def delete_key(key_id: str, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("deleting API keys")
    with db.session() as s:
        if not rowcount(s.execute(sa.delete(ApiKey).where(ApiKey.id == key_id))):
            raise NotFoundError(f"API key {key_id} not found")
