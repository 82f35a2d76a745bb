"""A lean load generator: concurrent keep-alive HTTP/1.1 GET clients on asyncio streams.

Why not ``httpx.AsyncClient``: on these 2-core machines it spends about as much CPU per
request as the server it measures (~3 ms), so with 50 clients the load generator, not the
server, is the bottleneck, and how its one event loop schedules 50 coroutines becomes the
tail latency it reports. This client writes a request and reads the status line, headers and
a ``Content-Length`` body: a few tens of microseconds per request, like ``wrk`` or ``hey``.
Each client has its own connection and sends one request at a time (a closed loop); the
latency counted is from writing the request to having read the whole body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

__all__ = ["Request", "run_clients"]

Request = tuple[str, str, dict[str, object]]
"""(label, path, query parameters) of one GET."""


class AnswerError(RuntimeError):
    """The server answered a request with something other than 200."""


def _target(path: str, params: dict[str, object]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _client(
    host: str, port: int, requests: Sequence[Request], times: dict[str, list[float]]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for label, path, params in requests:
            raw = f"GET {_target(path, params)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            started = time.perf_counter()
            writer.write(raw)
            status, body = await _read_answer(reader)
            took = time.perf_counter() - started
            if status != 200:
                raise AnswerError(f"GET {path} {params}: {status} {body[:300]!r}")
            times.setdefault(label, []).append(took)
            times.setdefault("all", []).append(took)
    finally:
        writer.close()


def run_clients(url: str, per_client: Sequence[Sequence[Request]]) -> dict[str, list[float]]:
    """Latencies (seconds) by label, and all of them under ``"all"``, of one client per
    item of ``per_client`` running its requests in order, all clients at once."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    times: dict[str, list[float]] = {}

    async def main() -> None:
        await asyncio.gather(*(_client(host, port, part, times) for part in per_client))

    asyncio.run(main())
    return times
