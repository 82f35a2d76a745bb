"""The HTTP transport under :class:`~headrace.client.Client`: one ``httpx.Client`` with
retries and exponential backoff for transient failures.

Transient means: the connection could not be made or broke (``httpx.TransportError``), or
the server answered 502/503/504 (a proxy or a restarting server). Other errors are final and
raised at once as :mod:`headrace.client.errors` classes. Retried POSTs are safe where it
matters: runs take an idempotency key and reports a batch id.
"""

from __future__ import annotations

import functools
import json as json_module
import ssl
import time
from typing import Any

import httpx
import orjson

from headrace.client.errors import ServerUnavailableError, error_for
from headrace.utilities.logging import get_logger

__all__ = ["RETRY_STATUSES", "Transport", "fast_json_body"]

RETRY_STATUSES = frozenset({502, 503, 504})
_JSON_HEADERS = {"Content-Type": "application/json"}


def fast_json_body(value: Any) -> bytes:
    """``value`` as the JSON text httpx would send, encoded by ``orjson`` (a 10,000-child
    map's report rows take a tenth of the time, and the runner's sender thread holds the
    interpreter lock that much less while the flow runs). Only for bodies headrace builds
    itself with finite floats: ``orjson`` writes a NaN as ``null`` where the standard
    encoder refuses it. What ``orjson`` cannot encode (an integer beyond 64 bits, a key
    that is not a string) takes the standard encoder, as httpx calls it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json_module.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")


def _tls_context(api_url: str) -> ssl.SSLContext | bool:
    """No certificate store for a plain-HTTP server (nothing to verify), else one verifying
    context shared by the process's clients: loading the CA bundle costs ~80 ms a client,
    a fifth of a short flow run's process."""
    if api_url.startswith("http://"):
        return False
    return _shared_tls_context()


@functools.cache
def _shared_tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


class Transport:
    """Sends requests to ``api_url`` + ``/api``; ``retries`` extra attempts at most."""

    def __init__(
        self,
        api_url: str,
        api_key: str | None,
        *,
        retries: int,
        timeout: float,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.retries = max(0, int(retries))
        self.backoff, self.max_backoff = backoff, max_backoff
        self.http = httpx.Client(
            base_url=self.api_url + "/api",
            headers=headers,
            timeout=timeout,
            verify=_tls_context(self.api_url),
        )
        self.logger = get_logger("client")

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> Any:
        """The decoded JSON answer (None for 204); raises on errors after retries.
        ``content``: a JSON body already encoded (see :func:`fast_json_body`)."""
        headers = None
        if content is not None:
            headers, json = _JSON_HEADERS, None
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method, path, json=json, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise ServerUnavailableError(
                        f"{method} {self.api_url}/api{path}: server unreachable after "
                        f"{attempt + 1} attempt(s): {exc}"
                    ) from exc
                reason = type(exc).__name__
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._decode(method, path, response)
                if attempt >= self.retries:
                    raise ServerUnavailableError(
                        f"{method} {self.api_url}/api{path}: server answered "
                        f"{response.status_code} after {attempt + 1} attempt(s)"
                    )
                reason = f"HTTP {response.status_code}"
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            self.logger.debug("%s %s failed (%s); retrying in %.2fs", method, path, reason, delay)
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _decode(method: str, path: str, response: httpx.Response) -> Any:
        if (response.status_code == 204 or not response.content) and response.is_success:
            return None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.is_success:
            return body
        raise error_for(method, path, response.status_code, body)
