"""Task result caching: validators, and the process-wide cache they are checked against.

A cached task run is stored under its task's identity within the flow (flow name, slug
and the function it runs), or under ``cache_key`` when the task names a cache to share
across flows. Two unrelated tasks that only share a name never share an entry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from headrace.engine.boundary import call_user
from headrace.engine.state import Cached

__all__ = [
    "all_inputs",
    "all_parameters",
    "clear_cache",
    "duration_only",
    "first_valid",
    "lookup",
    "partial_inputs_only",
    "partial_parameters_only",
    "snapshot",
    "store",
]

Validator = Callable[[Cached, dict[str, Any], dict[str, Any]], bool]

_lock = threading.Lock()
_cache: dict[str, list[Cached]] = {}


def _fresh(state: Cached) -> bool:
    return state.cache_expiration is None or state.cache_expiration > datetime.now(UTC)


def duration_only(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Valid until it expires, whatever the inputs (the default)."""
    return _fresh(state)


def all_inputs(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Valid while fresh and the task's inputs are equal to the cached run's."""
    return _fresh(state) and state.cached_inputs == inputs


def all_parameters(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Valid while fresh and the flow's parameters are equal to the cached run's."""
    return _fresh(state) and state.cached_parameters == parameters


def partial_inputs_only(validate_on: Iterable[str]) -> Validator:
    """Valid while fresh and the named inputs are equal."""
    keys = list(validate_on)

    def validator(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
        cached = state.cached_inputs or {}
        return _fresh(state) and all(cached.get(k) == inputs.get(k) for k in keys)

    return validator


def partial_parameters_only(validate_on: Iterable[str]) -> Validator:
    """Valid while fresh and the named parameters are equal."""
    keys = list(validate_on)

    def validator(state: Cached, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
        cached = state.cached_parameters or {}
        return _fresh(state) and all(cached.get(k) == parameters.get(k) for k in keys)

    return validator


def first_valid(
    candidates: Sequence[Cached],
    validator: Validator,
    inputs: dict[str, Any],
    parameters: dict[str, Any],
) -> Cached | None:
    """The newest of ``candidates`` that ``validator`` accepts."""
    for state in reversed(candidates):
        if call_user("cache validator", validator, state, inputs, parameters):
            return state
    return None


def lookup(
    key: str, validator: Validator, inputs: dict[str, Any], parameters: dict[str, Any]
) -> Cached | None:
    """The newest entry under ``key`` that ``validator`` accepts."""
    with _lock:
        candidates = list(_cache.get(key, ()))
    return first_valid(candidates, validator, inputs, parameters)


def snapshot(base: str) -> dict[str, list[Cached]]:
    """The fresh entries under ``base`` and its mapped children's keys (``base[i]``)."""
    prefix = base + "["
    with _lock:
        return {
            key: [s for s in entries if _fresh(s)]
            for key, entries in _cache.items()
            if key == base or key.startswith(prefix)
        }


def store(key: str, state: Cached, keep: int = 16) -> None:
    """Add ``state`` under ``key``; expired entries and all but the newest ``keep`` go."""
    with _lock:
        entries = [s for s in _cache.get(key, ()) if _fresh(s)]
        entries.append(state)
        _cache[key] = entries[-keep:]


def clear_cache() -> None:
    with _lock:
        _cache.clear()
