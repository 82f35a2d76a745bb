"""The run's context: what a task can read about the run it is part of.

``headrace.context`` reads like a mapping and by attribute: ``context.flow_name``,
``context.task_name``, ``context.get("map_index")``, ``context.task_run_count``,
``context.parameters``, ``context.scheduled_start_time``, ``context.logger``.

The values live in a :class:`contextvars.ContextVar`, so each thread and each asyncio task
sees its own; executors hand the context to their workers as a plain dict, so processes and
Dask workers see the same values (the logger is derived on access, never shipped).
``with headrace.context(key=value):`` layers values for the block.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["Context", "context", "task_full_name", "task_run_id"]

_EMPTY: dict[str, Any] = {}
_current: ContextVar[dict[str, Any]] = ContextVar("headrace_context", default=_EMPTY)


class Context(Mapping[str, Any]):
    """A read-only view of the current run context, with ``with context(...)`` to layer."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        data = _current.get()
        if key in data:
            return data[key]
        if key == "logger":
            return self._logger(data)
        if key in _DERIVED and "task_slug" in data:
            return _DERIVED[key](data)
        raise KeyError(key)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"the run context has no {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(_current.get())

    def __len__(self) -> int:
        return len(_current.get())

    def __contains__(self, key: object) -> bool:
        return key in _current.get()

    def get(self, key: str, default: Any = None) -> Any:
        data = _current.get()
        if key in data:
            return data[key]
        if key == "logger":
            return self._logger(data)
        if key in _DERIVED and "task_slug" in data:
            return _DERIVED[key](data)
        return default

    def to_dict(self) -> dict[str, Any]:
        """A picklable copy of the current values (what executors ship to workers)."""
        return {k: v for k, v in _current.get().items() if not isinstance(v, logging.Logger)}

    @staticmethod
    def _logger(data: Mapping[str, Any]) -> logging.Logger:
        from headrace._logging import get_logger

        if "task_name" in data:
            return get_logger(f"task.{data['task_name']}")
        if "flow_name" in data:
            return get_logger(f"flow.{data['flow_name']}")
        return get_logger()

    @contextmanager
    def __call__(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> Iterator[Context]:
        """Layer ``values``/``kwargs`` over the current context for the ``with`` block."""
        merged = {**_current.get(), **(values or {}), **kwargs}
        token = _current.set(merged)
        try:
            yield self
        finally:
            _current.reset(token)

    def __repr__(self) -> str:
        return f"<Context {sorted(_current.get())}>"


#: The namespace of task run ids (the bytes of UUID 7c1d0a52-5b1e-4f0e-9d44-6b8f4d0a7e21).
TASK_RUN_ID_NAMESPACE = bytes.fromhex("7c1d0a525b1e4f0e9d446b8f4d0a7e21")


def task_run_id(data: Mapping[str, Any]) -> str:
    """The id of the task run a context describes: derived from its flow run id, task slug
    and map index, so it is the same wherever the task runs and costs nothing until read.

    It is ``str(uuid.uuid5(namespace, key))`` written out without building two ``UUID``
    objects (a result written per mapped child asks for one: a third of the cost there)."""
    key = f"{data.get('flow_run_id')}/{data.get('task_slug')}/{data.get('map_index')}"
    digest = bytearray(hashlib.sha1(TASK_RUN_ID_NAMESPACE + key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def task_full_name(data: Mapping[str, Any]) -> str:
    """A task run's name with its map index: ``"load"`` or ``"load[3]"``."""
    index = data.get("map_index")
    name = data.get("task_name", "")
    return name if index is None else f"{name}[{index}]"


# Keys a task run's context derives on first read instead of storing for every run.
_DERIVED = {"task_run_id": task_run_id, "task_full_name": task_full_name}


def set_context(values: dict[str, Any]) -> Any:
    """Replace the current context outright; returns a token for :func:`reset_context`."""
    return _current.set(values)


def reset_context(token: Any) -> None:
    _current.reset(token)


def current() -> dict[str, Any]:
    """The current context's dict itself (engine use: read without copying)."""
    return _current.get()


context = Context()
