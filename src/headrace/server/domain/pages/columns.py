"""Small SQL helpers the UI's aggregate queries share (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.engine import state as engine_state
from headrace.server.db.models import Flow, FlowRun

__all__ = ["FAILED_NAMES", "hour_bucket", "iso", "run_columns", "run_row"]

FAILED_NAMES = frozenset(
    name
    for name in engine_state.__all__
    if isinstance(cls := getattr(engine_state, name), type) and issubclass(cls, engine_state.Failed)
)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def hour_bucket(session: Session, column: Any) -> Any:
    """``column`` truncated to its UTC hour as text ``YYYY-MM-DDTHH`` (times are stored UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24')
    return sa.func.strftime("%Y-%m-%dT%H", column)


def run_columns() -> list[Any]:
    """The columns of a flow run the UI lists (never its serialized state or run config)."""
    return [
        FlowRun.id,
        FlowRun.name,
        FlowRun.flow_id,
        FlowRun.flow_group_id,
        Flow.name.label("flow_name"),
        Flow.version.label("flow_version"),
        FlowRun.state,
        FlowRun.state_message,
        FlowRun.state_timestamp,
        FlowRun.scheduled_start,
        FlowRun.start_time,
        FlowRun.end_time,
        FlowRun.labels,
        FlowRun.is_late,
        FlowRun.run_count,
    ]


def run_row(row: Any) -> dict[str, Any]:
    """A row selected with :func:`run_columns` as JSON-ready values."""
    return {
        "id": row.id,
        "name": row.name,
        "flow_id": row.flow_id,
        "flow_group_id": row.flow_group_id,
        "flow_name": row.flow_name,
        "flow_version": row.flow_version,
        "state": row.state,
        "state_message": row.state_message,
        "state_timestamp": iso(row.state_timestamp),
        "scheduled_start": iso(row.scheduled_start),
        "start_time": iso(row.start_time),
        "end_time": iso(row.end_time),
        "labels": list(row.labels or []),
        "is_late": bool(row.is_late),
        "run_count": row.run_count,
    }
