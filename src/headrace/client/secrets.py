"""``Secret(name).get()``: a secret's value, from the run's local secrets or the server.

Where it looks, in order (Prefect 1's rules, with the server as its backend):

1. the run context's ``secrets`` mapping (``with context(secrets={...})`` or
   ``flow.run(context={"secrets": ...})``);
2. the ``[context.secrets]`` config section, which ``HEADRACE__CONTEXT__SECRETS__NAME``
   environment variables fill (the name keeps its case);
3. the server (``GET /secrets/{name}``), when ``cloud.server_secrets`` is ``"always"``, or
   ``"auto"`` (the default) and this is a run the server started (``flow_run_id`` in the
   context).

A string value that is valid JSON is returned parsed (``'{"a": 1}'`` gives a dict), as in
Prefect. Every value found is remembered for masking
(:func:`headrace.utilities.secrets.remember_secrets`): log lines, state messages and
tracebacks replace it with ``********`` before they leave the process;
:func:`resolved_secret_values` lists them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from headrace.client.errors import NotFoundError, SecretNotFoundError
from headrace.utilities.secrets import remember_secrets

__all__ = ["Secret", "remember_secret_value", "resolved_secret_values"]

_lock = threading.Lock()
_resolved: set[str] = set()


def remember_secret_value(value: Any) -> None:
    """Add ``value`` (as text, and each string inside a JSON document) to the masked set."""
    texts: list[str] = []
    if isinstance(value, str):
        texts.append(value)
    elif value is not None:
        texts.append(json.dumps(value))
        if isinstance(value, Mapping):
            texts.extend(str(v) for v in value.values() if isinstance(v, str | int | float))
    with _lock:
        _resolved.update(t for t in texts if len(t) >= 4)
    remember_secrets(texts)  # the one masking path: logs, state messages, tracebacks


def resolved_secret_values() -> list[str]:
    """The secret values this process has resolved, longest first (for masking)."""
    with _lock:
        return sorted(_resolved, key=len, reverse=True)


def _parse(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Secret:
    """A named secret; ``get()`` returns its value (see the module's lookup order)."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Secret needs a non-empty name, not {name!r}")
        self.name = name

    def __repr__(self) -> str:
        return f"<Secret: {self.name}>"

    def _local(self) -> tuple[bool, Any]:
        from headrace.configuration import config
        from headrace.runcontext import context

        from_context = context.get("secrets") or {}
        if isinstance(from_context, Mapping) and self.name in from_context:
            return True, from_context[self.name]
        from_config = config.get("context", {}).get("secrets", {})
        if isinstance(from_config, Mapping) and self.name in from_config:
            return True, from_config[self.name]
        return False, None

    @staticmethod
    def _asks_server() -> bool:
        from headrace.configuration import config
        from headrace.runcontext import context

        mode = str(config.get("cloud", {}).get("server_secrets", "auto")).lower()
        if mode == "always":
            return True
        return mode == "auto" and bool(context.get("flow_run_id"))

    def get(self) -> Any:
        """The secret's value; :class:`SecretNotFoundError` names where it looked."""
        found, raw = self._local()
        looked = ["the run context's secrets", "config context.secrets"]
        if not found and self._asks_server():
            from headrace.client.client import Client

            looked.append("the server")
            try:
                with Client() as client:
                    raw, found = client.get_secret(self.name), True
            except NotFoundError:
                found = False
        if not found:
            raise SecretNotFoundError(self.name, looked)
        remember_secret_value(raw)
        value = _parse(raw)
        remember_secret_value(value)
        return value

    def exists(self) -> bool:
        """Whether ``get()`` would find a value."""
        try:
            self.get()
        except SecretNotFoundError:
            return False
        return True
