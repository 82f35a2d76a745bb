"""The run context's standard keys, as Prefect documents them: dates, ids and names.

A flow run's context holds ``scheduled_start_time`` (now, unless the caller's context
gives one), ``date`` (the same datetime), ``today``, ``yesterday``, ``tomorrow`` as
``YYYY-MM-DD`` and their ``_nodash`` forms (``YYYYMMDD``), ``flow_run_id`` and
``flow_run_name`` (the backend's when it runs the flow, else made up here). A task run
adds ``task_run_id`` (derived from the flow run id, the task's slug and its map index,
so it is the same wherever the task runs) and ``task_full_name`` (``name[map_index]``),
both costing nothing until read.
All of them can be used in ``target=`` and result location templates, and in a task's
``task_run_name`` template (the run's name lands in ``context.task_run_name``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from headrace.engine.boundary import UserCodeError, call_user
from headrace.runcontext import task_full_name, task_run_id

__all__ = ["flow_run_keys", "task_run_id", "task_run_name", "with_task_run_id"]


def flow_run_keys(given: Mapping[str, Any]) -> dict[str, Any]:
    """The standard keys of a flow run's context; ``given`` (the caller's context) may
    fix ``scheduled_start_time``, ``flow_run_id`` and ``flow_run_name``."""
    start = given.get("scheduled_start_time")
    if not isinstance(start, datetime):
        start = datetime.now(UTC)
    day = start.date()
    keys: dict[str, Any] = {"scheduled_start_time": start, "date": start}
    for name, when in (
        ("today", day),
        ("yesterday", day - timedelta(days=1)),
        ("tomorrow", day + timedelta(days=1)),
    ):
        keys[name] = when.strftime("%Y-%m-%d")
        keys[f"{name}_nodash"] = when.strftime("%Y%m%d")
    run_id = given.get("flow_run_id") or _random_uuid()
    keys["flow_run_id"] = run_id
    keys["flow_run_name"] = given.get("flow_run_name") or f"local-{str(run_id)[:8]}"
    return keys


def with_task_run_id(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """``ctx`` plus its ``task_run_id`` and ``task_full_name`` (for templates), unless it
    has an id already."""
    out = dict(ctx)
    if out.get("task_run_id") is None and "task_slug" in out:
        out["task_run_id"] = task_run_id(out)
        out["task_full_name"] = task_full_name(out)
    return out


def task_run_name(task: Any, ctx: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """A run's name from the task's ``task_run_name``: a template formatted with the
    parameters, the context and the task's inputs, or a callable given them as keywords.
    A template naming an unknown key fails the task naming the template."""
    values = {**ctx.get("parameters", {}), **with_task_run_id(ctx), **inputs}
    template = task.task_run_name
    what = f"task_run_name of task {task.name!r}"
    if callable(template):
        return str(call_user(what, template, **values))
    try:
        return str(template.format(**values))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise UserCodeError(f"{what} ({template!r})", exc) from None


def _random_uuid() -> str:
    """A random (version 4) UUID string, without importing :mod:`uuid` for every run."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
