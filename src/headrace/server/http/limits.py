"""What one request may ask of the server: a body size, a log line's length, a batch's size,
the range of integer query values.

Every limit answers with a 4xx that names it, never a 5xx and never a silent acceptance of
a request that would cost the server memory or disk out of proportion:

- a body larger than ``server.max_body_bytes`` is refused with 413 before it is read
  whole (:class:`BodySizeLimit`, an ASGI middleware: a ``Content-Length`` over the limit is
  refused at once, a chunked body as soon as the bytes read pass it);
- a log line longer than ``server.max_log_message_chars`` is stored cut, ending with a
  marker that says how much was cut and which setting did it
  (:func:`~headrace.server.domain.logs.truncate_message`);
- list bodies (``POST /logs``, ``POST /flow_runs/{id}/task_runs``, a report's lists) hold at
  most :data:`headrace.wire.limits.MAX_BATCH` items (documented in the schema, 422 beyond);
- ``offset`` and id cursors are bounded (``headrace.wire.limits``) so that no
  value reaches the database that SQLite's or PostgreSQL's integers cannot hold.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "BodySizeLimit",
    "error_body",
]


def error_body(detail: str, code: str, field: str | None = None) -> dict[str, Any]:
    """The one error body every route answers with (``headrace.wire.ErrorOut``)."""
    return {"detail": detail, "code": code, "field": field, "errors": None}


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over ``limit`` bytes (0: no limit)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = int(limit)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send, declared)
            return
        seen = 0
        refused = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True  # the app sees a client that went away
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            # whatever the app answers to a body cut short, the client gets the 413
            if not refused:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(send, None)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            await self._refuse(send, None)

    async def _refuse(self, send: Any, declared: int | None) -> None:
        size = f"{declared:,} bytes" if declared is not None else "more"
        body = error_body(
            f"request body too large: {size}; the limit is {self.limit:,} bytes "
            "(server.max_body_bytes)",
            "body_too_large",
            "body",
        )
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
