"""Reusing earlier results: a task's existing ``target`` and its cache (``cache_for``),
and the cache entry a successful run leaves for the next one.

The flow runner may hand the runner a snapshot of the cache entries it may reuse
(``cache_candidates``); new entries then travel back on the final state instead of going
into this process's cache, so a run on a remote worker caches in the flow's process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headrace.engine import cache
from headrace.engine.checkpoint import result_handler
from headrace.engine.state import Cached, State, Success

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["cache_hit", "remember", "target_hit"]

_EMPTY: dict[str, Any] = {}


def target_hit(
    runner: TaskRunner, state: State, fmt: dict[str, Any], map_index: int | None
) -> State | None:
    """``Cached`` with the result found at the task's target, or ``None`` if none is there."""
    handler = result_handler(runner)
    location = handler.render_location(runner.task.target, fmt)
    if not handler.exists(location):
        return None
    found = handler.read(location)
    message = f"Result found at the task's target {location!r}."
    return runner.set_state(state, Cached(message, found.value, persisted=found), map_index)


def cache_hit(
    runner: TaskRunner,
    state: State,
    inputs: dict[str, Any],
    ctx: dict[str, Any],
    map_index: int | None,
) -> State | None:
    """``Cached`` from a still-valid cache entry for these inputs, or ``None``."""
    task = runner.task
    key = runner.cache_key_for(map_index)
    validator = task.cache_validator or cache.duration_only
    params = ctx.get("parameters", _EMPTY)
    if runner.cache_candidates is None:
        hit = cache.lookup(key, validator, inputs, params)
    else:
        hit = cache.first_valid(runner.cache_candidates.get(key, ()), validator, inputs, params)
    if hit is None:
        return None
    found = Cached(
        "Cached result found.",
        hit.result,
        cached_inputs=hit.cached_inputs,
        cached_parameters=hit.cached_parameters,
        cache_expiration=hit.cache_expiration,
        persisted=hit.persisted,
    )
    return runner.set_state(state, found, map_index)


def remember(runner: TaskRunner, new: Success, inputs: dict[str, Any], ctx: dict[str, Any]) -> None:
    """Cache a successful run's result for ``cache_for`` (or attach the entry to ``new``
    for the flow runner to store, when it gave the runner its candidates)."""
    task = runner.task
    assert task.cache_for is not None
    entry = Cached(
        "Cached result found.",
        new._value,
        cached_inputs=inputs,
        cached_parameters=dict(ctx.get("parameters", _EMPTY)),
        cache_expiration=datetime.now(UTC) + task.cache_for,
        persisted=new.persisted,
    )
    if runner.cache_candidates is None:
        cache.store(runner.cache_key_for(ctx.get("map_index")), entry)
    else:
        new.cache_entry = entry
