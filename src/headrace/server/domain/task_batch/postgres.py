"""The PostgreSQL (psycopg) side of a batch's bulk writes: new rows stream in by COPY and
existing rows are updated by one ``UPDATE ... FROM unnest(arrays)``. psycopg runs an
executemany as one statement per row, ~40 us of Python each; COPY and arrays cost a few."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from headrace.server.domain.task_batch.binds import json_text, postgres_text

__all__ = ["copy_rows", "update_rows"]

_UPDATE = (
    "UPDATE task_runs AS t SET state = v.state, state_message = v.message, "
    "state_serialized = v.serialized::json, state_timestamp = v.stamp, version = v.version, "
    "start_time = v.start_time, end_time = v.end_time, run_count = v.run_count, "
    "history_in_row = v.in_row "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::int[], "
    "%s::timestamptz[], %s::timestamptz[], %s::int[], %s::bool[], %s::text[]) "
    "AS v(state, message, serialized, stamp, version, start_time, end_time, run_count, in_row, "
    "id) WHERE t.id = v.id"
)


def copy_rows(session: Session, copy: str, rows: list[list[Any]]) -> None:
    """Stream ``rows`` (bind values, JSON as text) through the ``COPY ... FROM STDIN``
    statement ``copy`` on the session's psycopg connection."""
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(copy) as stream:  # type: ignore[union-attr]
        for row in rows:
            stream.write_row(row)


def update_rows(session: Session, rows: list[list[Any]]) -> None:
    """The executemany UPDATE as one statement over arrays: rows in ``(state, message,
    serialized, timestamp, version, start_time, end_time, run_count, history_in_row, id)``
    order."""
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    columns[2] = [None if v is None else json_text(v) for v in columns[2]]
    for i in (3, 5, 6):  # datetimes or a report's Unix seconds, as COPY takes them
        columns[i] = [None if v is None else postgres_text(v) for v in columns[i]]
    session.connection().exec_driver_sql(_UPDATE, tuple(columns))
