"""A run's logs: the length cap a stored line obeys, and reading them back filtered by
level, text and task run, paged by id.

A line over ``server.max_log_message_chars`` is stored cut (:func:`truncate_message`): the
start of the line, ending with a marker that says how many characters were cut and by which
setting, so a reader knows it is not the whole line and what to raise to keep more. The
report (:mod:`.report`) and ``POST /logs`` store logs through it; the other request limits
are the HTTP layer's (:mod:`headrace.server.http.limits`).

Logs page by their id, oldest first: ``after_id`` tails a live run (the UI and ``headrace
get logs`` ask for what came after the last line they have) and a full page's cursor is the
last id it holds. The search is a case-insensitive substring with the LIKE wildcards
escaped, so ``50%`` finds ``50%``. Writing logs is the report's (:func:`.report.insert_logs`).
"""

from __future__ import annotations

import functools
from typing import Any, cast

import sqlalchemy as sa

from headrace.server.db.models import Log
from headrace.server.domain.listing import Columns, decode_cursor, encode_cursor, escape_like
from headrace.wire import LogOut

__all__ = ["LOG_COLUMNS", "list_logs", "logs_cursor", "truncate_message"]

#: The columns of a listed log record: LogOut's.
LOG_COLUMNS = Columns(cast(sa.Table, Log.__table__), list(LogOut.model_fields))


def list_logs(
    conn: sa.Connection,
    dialect: str,
    flow_run_id: str,
    *,
    level: int = 0,
    search: str | None = None,
    task_run_id: str | None = None,
    after_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """One page of a run's log records at ``level`` or above, oldest first, as JSON-ready
    rows (the caller checked that the run is visible)."""
    params: dict[str, Any] = {
        "flow_run_id": flow_run_id,
        "level": level,
        "limit": limit,
        "offset": offset,
    }
    if search:
        params["search"] = f"%{escape_like(search)}%"
    if task_run_id is not None:
        params["task_run_id"] = task_run_id
    if after_id is not None:
        params["after_id"] = after_id
    if cursor is not None:
        (params["last_id"],) = decode_cursor(cursor, "logs", (int,))
    return LOG_COLUMNS.rows(conn.execute(_logs_select(dialect, *params), params), dialect)


@functools.lru_cache(maxsize=64)
def _logs_select(dialect: str, *given: str) -> sa.Select[Any]:
    """The list's statement for the parameters ``given``, built once per combination."""
    q = LOG_COLUMNS.select(dialect).where(
        Log.flow_run_id == sa.bindparam("flow_run_id"), Log.level >= sa.bindparam("level")
    )
    if "search" in given:
        q = q.where(Log.message.ilike(sa.bindparam("search"), escape="\\"))
    if "task_run_id" in given:
        q = q.where(Log.task_run_id == sa.bindparam("task_run_id"))
    if "after_id" in given:
        q = q.where(Log.id > sa.bindparam("after_id"))
    if "last_id" in given:
        q = q.where(Log.id > sa.bindparam("last_id"))
    q = q.order_by(Log.id)
    return q.limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))


def logs_cursor(last: dict[str, Any]) -> str:
    """The cursor of the page after the one ending with record ``last``."""
    return encode_cursor("logs", [last["id"]])


def truncate_message(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (0: no limit), ending with a marker that
    says how many characters were cut and by which setting."""
    if limit <= 0 or len(text) <= limit:
        return text
    marker = (
        f" ... [truncated {len(text) - limit:,} characters; "
        f"server.max_log_message_chars = {limit:,}]"
    )
    return text[: max(limit - len(marker), 0)] + marker
