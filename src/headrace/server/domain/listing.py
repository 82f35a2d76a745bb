"""List routes without per-row objects: rows are read as columns by Core SQL, turned into
plain dicts shaped exactly like the route's response model, and encoded once with
``orjson``; pages are found by keyset (a cursor) as well as by ``offset``.

Why: a page of 10,000 task runs through ORM objects, a pydantic model per row and the
standard JSON encoder cost 0.6-3 s; as columns and one ``orjson`` call it is a few tens of
milliseconds. On SQLite the timestamps are read as the stored text and rewritten to the
ISO 8601 form pydantic gives (``2026-01-01T00:00:00.5Z``, microseconds left out when zero)
and JSON columns are parsed by ``orjson``; on PostgreSQL the driver's values go through the
columns' own result processors (timezone-aware UTC).

Cursors: a full page's answer carries the cursor of the page after it in the
``X-Next-Cursor`` header and as ``Link: <url>; rel="next"`` (the same request with
``cursor`` set and ``offset`` dropped). A cursor is opaque (URL-safe base64 of the last
row's sort key) and only valid for the route, and order, that gave it; anything else is a
422 naming ``cursor``. Keyset pages stay fast and stable however deep they go, where an
``offset`` makes the database skip every row before it (``offset`` still works).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import Request, Response

from headrace.core.gc_pause import paused
from headrace.server.errors import InvalidInputError

__all__ = [
    "CURSOR_DOC",
    "CURSOR_PATTERN",
    "NEXT_PAGE_HEADERS",
    "Columns",
    "decode_cursor",
    "dumps",
    "encode_cursor",
    "escape_like",
    "iso_key",
    "json_response",
    "like_prefix",
    "page_response",
    "parse_time",
]

#: A cursor's characters (URL-safe base64 without padding).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
CURSOR_DOC = (
    'Keyset paging: the `X-Next-Cursor` header (or the `Link` header\'s `rel="next"` URL) '
    "of a full page. Opaque; valid only for this route and order."
)

#: How the next page is announced, documented on every paged route.
NEXT_PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "X-Next-Cursor": {
                "description": "Present when the page is full: pass it as `cursor` for the "
                "next page.",
                "schema": {"type": "string"},
            },
            "Link": {
                "description": 'Present when the page is full: `<url>; rel="next"`, this '
                "request with `cursor` set to the next page's.",
                "schema": {"type": "string"},
            },
        }
    }
}

_DUMP_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dumps(data: Any) -> bytes:
    """``data`` as JSON bytes: ``orjson`` when it can (it refuses integers beyond 64 bits,
    which a flow run's parameters may hold), the standard encoder otherwise."""
    try:
        return orjson.dumps(data, option=_DUMP_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, default=str, separators=(",", ":")).encode()


def json_response(data: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer encoded once (no response-model pass over every row)."""
    return Response(dumps(data), media_type="application/json", headers=headers)


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    """The opaque cursor of route ``kind`` after a row whose sort key is ``key``."""
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, types: Sequence[type]) -> list[Any]:
    """The sort key in ``cursor``; 422 naming ``cursor`` unless this route (``kind``) made
    it with values of ``types``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("cursor: not a cursor this route gave", field="cursor") from exc
    if (
        not isinstance(value, list)
        or len(value) != len(types) + 1
        or value[0] != kind
        or not all(
            isinstance(v, t) and not isinstance(v, bool)
            for v, t in zip(value[1:], types, strict=True)
        )
    ):
        raise InvalidInputError("cursor: not a cursor this route gave", field="cursor")
    return list(value[1:])


def page_response(
    request: Request, rows: list[dict[str, Any]], limit: int, next_cursor: Callable[[], str]
) -> Response:
    """The page as JSON; when it is full, the next page's cursor in ``X-Next-Cursor`` and
    ``Link`` (the same URL with ``cursor`` set and ``offset`` dropped)."""
    headers = None
    if len(rows) >= limit:
        cursor = next_cursor()
        url = request.url.remove_query_params("offset").include_query_params(cursor=cursor)
        headers = {"X-Next-Cursor": cursor, "Link": f'<{url}>; rel="next"'}
    return json_response(rows, headers)


def _sqlite_iso(column: Any) -> Any:
    """SQL turning a timestamp as SQLite stores it (``2026-01-01 00:00:00.500000``, UTC)
    into the text pydantic writes (``2026-01-01T00:00:00.500000Z``; no fraction when it is
    zero); NULL stays NULL. Done by SQLite, not by Python per value; one literal column,
    cheap for SQLAlchemy to key its statement cache on."""
    name = f"{column.table.name}.{column.name}"
    return sa.literal_column(f"replace(replace({name}, ' ', 'T') || 'Z', '.000000Z', 'Z')")


def _postgres_iso(column: Any) -> Any:
    """The same text made by PostgreSQL from a ``timestamptz``: per value, the driver's
    datetime and its conversion to UTC cost more than the whole row otherwise."""
    name = f"{column.table.name}.{column.name}"
    return sa.literal_column(
        f"replace(to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "'.000000Z', 'Z')"
    )


_EMPTY_LIST = "[]"

#: Rows from which a page is built with the cyclic collector paused.
BIG_PAGE = 1000


def _json_value(value: Any) -> Any:
    """A JSON column's value, parsed from the text the SELECT asked for (by ``orjson``)."""
    if isinstance(value, str):
        return [] if value == _EMPTY_LIST else orjson.loads(value)
    return value


class Columns:
    """How a list route reads one table: which columns, in the response model's field
    order, and which of them are timestamps and JSON (on SQLite and PostgreSQL read as
    text and converted cheaply); :meth:`rows` gives the response's dicts."""

    def __init__(
        self,
        table: sa.Table,
        names: Sequence[str],
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.table, self.names, self.extra = table, list(names), dict(extra or {})
        from headrace.server.db.models import UTCDateTime

        self.times = [n for n in names if isinstance(table.c[n].type, UTCDateTime)]
        self.json = [n for n in names if isinstance(table.c[n].type, sa.JSON)]
        self._selects: dict[str, sa.Select[Any]] = {}

    def select(self, dialect: str) -> sa.Select[Any]:
        """The SELECT of the columns (JSON as text, timestamps already in their answer's
        form, made by the database itself), built once per dialect."""
        made = self._selects.get(dialect)
        if made is None:
            made = self._selects[dialect] = self._select(dialect)
        return made

    def _select(self, dialect: str) -> sa.Select[Any]:
        if dialect not in ("sqlite", "postgresql"):
            return sa.select(*(self.table.c[n] for n in self.names))
        iso = _sqlite_iso if dialect == "sqlite" else _postgres_iso
        columns: list[Any] = []
        for n in self.names:
            column = self.table.c[n]
            if n in self.times:
                columns.append(iso(column).label(n))
            elif n in self.json:
                # SQLite stores JSON as text already; PostgreSQL's driver would parse it
                # with the standard library's decoder, slower than orjson on the text
                text = (
                    sa.type_coerce(column, sa.Text)
                    if dialect == "sqlite"
                    else sa.cast(column, sa.Text)
                )
                columns.append(text.label(n))
            else:
                columns.append(column)
        return sa.select(*columns)

    def rows(self, result: Iterable[Any], dialect: str) -> list[dict[str, Any]]:
        """The response's dicts from the rows of :meth:`select`."""
        names, extra = self.names, self.extra
        json_at = [names.index(n) for n in self.json]
        out = []
        fetched = result.all() if hasattr(result, "all") else list(result)  # one fetchall
        # a big page makes thousands of dicts that all stay alive until it is sent: the
        # cyclic collector's passes over them would be work for nothing
        with paused() if len(fetched) >= BIG_PAGE else contextlib.nullcontext():
            for row in fetched:
                values = list(row)
                for i in json_at:
                    values[i] = _json_value(values[i])
                item = dict(zip(names, values, strict=True))
                if extra:
                    item.update(extra)
                out.append(item)
        return out


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern whose escape character is ``\\``: its ``%`` and ``_``
    taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape ``\\``) matching what starts with ``text``."""
    return escape_like(text) + "%"


def iso_key(value: Any) -> str:
    """A timestamp of a sort key as cursor text (ISO 8601, UTC)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def parse_time(text: Any) -> datetime:
    """A cursor's timestamp back (422 naming ``cursor`` if it is not one)."""
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise InvalidInputError("cursor: not a cursor this route gave", field="cursor") from exc
    if value.tzinfo is None:
        raise InvalidInputError("cursor: not a cursor this route gave", field="cursor")
    try:  # a time near the ends of the calendar may not exist in UTC
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInputError("cursor: not a cursor this route gave", field="cursor") from exc
