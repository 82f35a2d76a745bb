"""Health, concurrency limits and API keys."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from headrace.server.db.database import Database
from headrace.server.domain import concurrency_limits
from headrace.server.domain.auth import Principal, create_api_key, delete_api_key, list_api_keys
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

    db.ping()
    return {"status": "ok", "version": __version__, "database": db.dialect}


@router.get(
    "/concurrency_limits",
    response_model=list[ConcurrencyLimitOut],
    tags=["concurrency limits"],
    summary="Every limit with its current active count",
)
def list_limits(db: Database = DB, who: Principal = WHO) -> list[ConcurrencyLimitOut]:
    with db.session(write=False) as s:
        out = []
        for row, active in concurrency_limits.list_limits(s):
            item = ConcurrencyLimitOut.model_validate(row)
            item.active = active
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
        row = concurrency_limits.put_limit(s, kind, name, body.limit)
        return ConcurrencyLimitOut.model_validate(row)


@router.delete("/concurrency_limits/{kind}/{name}", status_code=204, tags=["concurrency limits"])
def delete_limit(kind: Kind, name: str, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("changing concurrency limits")
    with db.session() as s:
        concurrency_limits.delete_limit(s, kind, name)


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
        return [ApiKeyOut.model_validate(k) for k in list_api_keys(s)]


@router.delete("/api_keys/{key_id}", status_code=204, tags=["api keys"])
def delete_key(key_id: str, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("deleting API keys")
    with db.session() as s:
        delete_api_key(s, key_id)
