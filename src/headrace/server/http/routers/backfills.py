"""Backfills: create the runs a flow's schedule would have made in a past window."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.backfill import backfill_flow, current_flow
from headrace.server.domain.lookup import get_flow
from headrace.server.http.deps import DB, WHO, get_settings
from headrace.server.settings import ServerSettings
from headrace.wire import BackfillIn, BackfillOut

__all__ = ["router"]

router = APIRouter(tags=["backfills"])


@router.post(
    "/backfills",
    response_model=BackfillOut,
    summary="Create, once each, the runs the flow's schedule has in [start, end]",
    responses={201: {"description": "Some runs created"}},
)
def create_backfill(
    body: BackfillIn,
    response: Response,
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = Depends(get_settings),
) -> BackfillOut:
    with db.session() as s:
        flow = current_flow(s, get_flow(s, body.flow_id, who).flow_group_id)
        result = backfill_flow(
            s,
            flow,
            start=body.start,
            end=body.end,
            max_concurrent=body.max_concurrent,
            now=utcnow(),
            max_retries=settings.flow_run_max_retries,
        )
        response.status_code = 201 if result.created else 200
        bf = result.backfill
        runs = sorted([*result.created, *result.existing], key=lambda r: r.scheduled_start)
        return BackfillOut(
            id=bf.id,
            flow_id=bf.flow_id,
            flow_group_id=bf.flow_group_id,
            start=bf.start,
            end=bf.end,
            max_concurrent=bf.max_concurrent,
            created=bf.created,
            run_ids=[r.id for r in runs],
            created_runs=len(result.created),
            existing_runs=len(result.existing),
        )
