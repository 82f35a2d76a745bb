"""Checking a task's settings and bringing them to the form the engine reads.

Done once when a task is made and again when ``task.copy(**overrides)`` changes settings,
so the engine never re-checks a setting while it runs (seconds are floats, ``cache_for``
a ``timedelta``, tags a frozenset, retry exception types a tuple).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.core.task import Task

__all__ = ["normalize_settings", "nout_from_annotation"]


def normalize_settings(task: Task) -> None:
    """Check every setting of ``task`` and store it in its normal form; a ``TypeError`` or
    ``ValueError`` names the task and the setting."""
    if not isinstance(task.name, str) or not task.name:
        raise TypeError(f"a task's name must be a non-empty string, not {task.name!r}")
    label = task.name
    if task.slug is not None and not isinstance(task.slug, str):
        raise TypeError(f"Task {label!r}: slug must be a string, not {task.slug!r}")
    if isinstance(task.tags, str):
        raise TypeError(f"Task {label!r}: tags must be a collection of strings, not a str")
    task.tags = frozenset(task.tags or ())
    max_retries = task.max_retries
    if isinstance(max_retries, bool) or not isinstance(max_retries, int):
        raise TypeError(
            f"Task {label!r}: max_retries must be an int, not {type(max_retries).__name__}"
        )
    if max_retries < 0:
        raise ValueError(f"Task {label!r}: max_retries must be >= 0, not {max_retries}")
    task.retry_delay = _seconds(task.retry_delay, "retry_delay", label)
    retry_on: Any = task.retry_on
    if retry_on is not None:
        retry_on = tuple((retry_on,) if isinstance(retry_on, type) else retry_on)
        for exc_type in retry_on:
            if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
                raise TypeError(
                    f"Task {label!r}: retry_on must list exception types, not {exc_type!r}"
                )
    task.retry_on = retry_on
    task.timeout = _seconds(task.timeout, "timeout", label)
    if task.timeout == 0:
        raise ValueError(f"Task {label!r}: timeout must be positive")
    if task.trigger is not None and not callable(task.trigger):
        raise TypeError(f"Task {label!r}: trigger must be callable")
    task.skip_on_upstream_skip = bool(task.skip_on_upstream_skip)
    cache_for: Any = task.cache_for
    if not isinstance(cache_for, timedelta):
        seconds = _seconds(cache_for, "cache_for", label)
        cache_for = timedelta(seconds=seconds) if seconds is not None else None
    elif cache_for < timedelta(0):
        raise ValueError(f"Task {label!r}: cache_for must not be negative")
    task.cache_for = cache_for
    if task.cache_validator is not None and not callable(task.cache_validator):
        raise TypeError(f"Task {label!r}: cache_validator must be callable")
    if task.cache_key is not None and not isinstance(task.cache_key, str):
        raise TypeError(f"Task {label!r}: cache_key must be a string")
    if task.checkpoint is not None:
        task.checkpoint = bool(task.checkpoint)
    result = task.result
    if result is not None and not (hasattr(result, "write") and hasattr(result, "read")):
        raise TypeError(
            f"Task {label!r}: result must be a Result (such as LocalResult), "
            f"not {type(result).__name__}"
        )
    target = task.target
    if target is not None and not (isinstance(target, str) or callable(target)):
        raise TypeError(f"Task {label!r}: target must be a string template or callable")
    handlers = list(task.state_handlers or ())
    for handler in handlers:
        if not callable(handler):
            raise TypeError(f"Task {label!r}: state handler {handler!r} is not callable")
    task.state_handlers = handlers
    nout = task.nout
    if nout is not None and (isinstance(nout, bool) or not isinstance(nout, int)):
        raise TypeError(f"Task {label!r}: nout must be an int, not {type(nout).__name__}")
    if nout is not None and nout < 1:
        raise ValueError(f"Task {label!r}: nout must be positive, not {nout}")
    task.log_stdout = bool(task.log_stdout)
    run_name = task.task_run_name
    if run_name is not None and not (isinstance(run_name, str) or callable(run_name)):
        raise TypeError(f"Task {label!r}: task_run_name must be a string template or callable")


def _seconds(value: Any, what: str, task_name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"Task {task_name!r}: {what} must be a number of seconds or a timedelta, "
            f"not {type(value).__name__}"
        )
    if value < 0:
        raise ValueError(f"Task {task_name!r}: {what} must not be negative (got {value})")
    return float(value)


def nout_from_annotation(fn: Callable[..., Any]) -> int | None:
    """The length of a fixed-size tuple ``fn`` is annotated to return (``-> Tuple[int, str]``
    or ``-> tuple[int, str]``), else ``None``: Prefect infers ``nout`` this way."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: nothing to infer
        return None
    returned = hints.get("return")
    if typing.get_origin(returned) is not tuple:
        return None
    args = typing.get_args(returned)
    if not args or Ellipsis in args or args == ((),):
        return None
    return len(args)
