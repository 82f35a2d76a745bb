"""``Webhook``: flows uploaded to and fetched from any HTTP service, with one request each.

The requests are described as keyword arguments (``url``, ``headers``, ``params``...), the
shape Prefect 1 used. Any ``${NAME}`` inside their strings is replaced, at request time
only, by the environment variable ``NAME`` or else the secret ``NAME``; the JSON form keeps
the template, and the values are masked in logs and state messages once resolved.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from headrace._serializable.errors import BuildError, FlowLoadError, StorageError
from headrace.storage.base import Storage
from headrace.storage.credentials import MissingSecretError, render
from headrace.storage.flowfile import dumps_flow, load_flow_source, loads_flow
from headrace.utilities.secrets import redact

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Webhook"]

BUILD_METHODS = frozenset({"PATCH", "POST", "PUT"})
GET_METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})

#: Request keywords understood (Prefect 1 passed them to ``requests``).
REQUEST_KEYS = frozenset(
    {"url", "headers", "params", "json", "data", "cookies", "timeout", "auth", "allow_redirects"}
)

_CREDENTIAL = re.compile(r"auth|token|key|secret|password|cookie", re.IGNORECASE)
_TEMPLATE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def _check_kwargs(kwargs: Any, what: str) -> dict[str, Any]:
    if not isinstance(kwargs, Mapping):
        raise TypeError(f"Webhook storage: {what} must be a dict of request keywords")
    unknown = sorted(set(kwargs) - REQUEST_KEYS)
    if unknown:
        raise ValueError(
            f"Webhook storage: {what} has unknown request keywords {unknown} "
            f"(known: {sorted(REQUEST_KEYS)})"
        )
    if not isinstance(kwargs.get("url"), str) or not kwargs["url"]:
        raise ValueError(f"Webhook storage: {what} needs a 'url'")
    for name, value in dict(kwargs.get("headers") or {}).items():
        if _CREDENTIAL.search(str(name)) and isinstance(value, str) and not _TEMPLATE.search(value):
            warnings.warn(
                f"Webhook storage: header {name!r} of {what} holds a literal value, which is "
                "recorded with the flow; write it as '${NAME}' to take it from the "
                "environment variable or secret NAME when the request is made",
                UserWarning,
                stacklevel=4,
            )
    return dict(kwargs)


def _method(value: Any, allowed: frozenset[str], what: str) -> str:
    method = str(value).upper()
    if method not in allowed:
        raise ValueError(f"Webhook storage: {what} must be one of {sorted(allowed)}, not {value!r}")
    return method


class Webhook(Storage):
    """A flow stored with one HTTP request at :meth:`build` (``build_request_http_method``
    with ``build_request_kwargs``; the flow's bytes are the body) and fetched with another
    (``get_flow_request_http_method`` with ``get_flow_request_kwargs``; the answer's body
    is the flow).

    The body is the pickled flow, or, with ``stored_as_script=True``, the text of the
    script at ``flow_script_path``. ``${NAME}`` in any string of the request keywords is
    the environment variable ``NAME`` or, without one, the secret ``NAME``.
    """

    serialized_fields = (
        "build_request_kwargs",
        "build_request_http_method",
        "get_flow_request_kwargs",
        "get_flow_request_http_method",
        "stored_as_script",
        "flow_script_path",
    )

    def __init__(
        self,
        build_request_kwargs: Mapping[str, Any],
        build_request_http_method: str,
        get_flow_request_kwargs: Mapping[str, Any],
        get_flow_request_http_method: str,
        stored_as_script: bool = False,
        flow_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.build_request_kwargs = _check_kwargs(build_request_kwargs, "build_request_kwargs")
        self.get_flow_request_kwargs = _check_kwargs(
            get_flow_request_kwargs, "get_flow_request_kwargs"
        )
        self.build_request_http_method = _method(
            build_request_http_method, BUILD_METHODS, "build_request_http_method"
        )
        self.get_flow_request_http_method = _method(
            get_flow_request_http_method, GET_METHODS, "get_flow_request_http_method"
        )
        self.stored_as_script = bool(stored_as_script)
        self.flow_script_path = flow_script_path

    def describe(self, location: str | None = None) -> str:
        where = f" (flow {location!r})" if location is not None else ""
        return f"Webhook storage{where}"

    def store_flow(self, flow: Flow) -> str:
        if self.flows:
            raise StorageError(
                f"Webhook storage holds one flow (one request stores it); it already holds "
                f"{sorted(self.flows)}"
            )
        if self.stored_as_script and self.flow_script_path is None:
            raise ValueError("Webhook(stored_as_script=True) needs flow_script_path=")
        return flow.name

    def get_flow(self, flow_location: str | None = None) -> Flow:
        if flow_location is None and not self.flows:
            return self.load_flow("", None)
        return super().get_flow(flow_location)

    # ---- requests -------------------------------------------------------------------

    def _request(self, method: str, template: Mapping[str, Any], body: bytes | None) -> bytes:
        """Send one request; errors name the method and the URL *template*."""
        what = f"{method} {template['url']}"
        kwargs = render(dict(template), self.describe())
        follow = bool(kwargs.pop("allow_redirects", True))
        timeout = kwargs.pop("timeout", 60.0)
        auth = kwargs.pop("auth", None)
        data = kwargs.pop("data", None)
        if body is not None:
            kwargs["content"] = body
        elif isinstance(data, str | bytes):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        if isinstance(auth, list | tuple):
            kwargs["auth"] = tuple(auth)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=follow) as client:
                response = client.request(method, **kwargs)
        except httpx.HTTPError as exc:
            raise StorageError(
                f"{self.describe()}: {what} failed: {type(exc).__name__}: {redact(str(exc))}"
            ) from None
        if response.status_code in (401, 403):
            names = sorted(set(_TEMPLATE.findall(str(template))))
            raise StorageError(
                f"{self.describe()}: {what} was refused ({response.status_code}); check the "
                f"credentials the request takes from {names or 'nowhere (it sends none)'}"
            )
        if response.status_code >= 400:
            raise StorageError(
                f"{self.describe()}: {what} answered {response.status_code} "
                f"{response.reason_phrase}"
            )
        return response.content

    def build_storage(self) -> None:
        """Send each flow (or the flow script) with the build request."""
        for name, flow in self._flows.items():
            if self.stored_as_script:
                assert self.flow_script_path is not None
                try:
                    body = Path(self.flow_script_path).read_bytes()
                except OSError as exc:
                    raise BuildError(
                        f"{self.describe(name)}: cannot read flow_script_path "
                        f"{self.flow_script_path!r}: {exc}"
                    ) from exc
            else:
                body = dumps_flow(flow)
            try:
                self._request(self.build_request_http_method, self.build_request_kwargs, body)
            except MissingSecretError:
                raise
            except StorageError as exc:
                raise BuildError(f"uploading flow {name!r}: {exc}") from None

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(flow_name or location or None)
        try:
            data = self._request(
                self.get_flow_request_http_method, self.get_flow_request_kwargs, None
            )
        except MissingSecretError:
            raise
        except StorageError as exc:
            raise FlowLoadError(f"cannot fetch the flow: {exc}") from None
        if self.stored_as_script:
            url = str(self.get_flow_request_kwargs["url"])
            return load_flow_source(data, flow_name, where, url)
        return loads_flow(data, where)
