"""Request bodies parsed by ``orjson``: a route class for the routes that take big bodies.

FastAPI parses a JSON body with the standard library's ``json.loads``; a runner's report
of a 10,000-child map is a few hundred kilobytes, and parsing it that way was about a tenth
of the server's work on the report. :class:`FastJSONRoute` hands its endpoint a request
whose ``json()`` uses ``orjson`` (several times faster). Answers stay the same: a body
``orjson`` refuses (``NaN``, say) is parsed again by the standard library, which accepts
it or raises the error FastAPI turns into its usual 422 (``orjson``'s own error is a kind
of ``json.JSONDecodeError``, the one FastAPI catches); and a body holding a run of 19 or
more digits goes to the standard library at once, because ``orjson`` reads an integer
beyond 64 bits as a float, silently losing its digits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

__all__ = ["FastJSONRequest", "FastJSONRoute"]

# 19 digits in a row: maybe an integer beyond 64 bits (or a long number in a text). Found
# by mapping every digit to "0" and searching for nineteen of them: ~2 ms on a 1.4 MB
# report, where a regular expression takes as long as the standard library's whole parse.
_DIGITS_AS_ZERO = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_NINETEEN = b"0" * 19


def _may_hold_a_long_integer(raw: bytes) -> bool:
    return _NINETEEN in raw.translate(_DIGITS_AS_ZERO)


class FastJSONRequest(Request):
    """A request whose JSON body is parsed by ``orjson`` (the standard library's parser
    when ``orjson`` refuses it)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raw = await self.body()
            if _may_hold_a_long_integer(raw):
                self._json = json.loads(raw)
            else:
                try:
                    self._json = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    self._json = json.loads(raw)
        return self._json


class FastJSONRoute(APIRoute):
    """A route whose endpoint sees a :class:`FastJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(FastJSONRequest(request.scope, request.receive))

        return handle
