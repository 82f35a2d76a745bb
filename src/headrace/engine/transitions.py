"""Which state follows which: the engine's state machine, as one table.

Everything that changes a state goes through this table, so the rules live in one place:
the task runner's steps name an event and :func:`transition` builds the state of the kind
the table gives for it; the runners apply every state (their steps', a signal's, a state
handler's replacement) with :func:`apply`, which refuses what the table does not allow with
an :class:`~headrace.engine.errors.InvalidTransitionError` carrying the task, both states
and the run's story; the server checks reported states with :func:`is_allowed`. The
functions are pure: a state and an event in, the next state out.

Rows are keyed by state kind; a kind without a row of its own uses its parent's (a
``Retrying`` task follows the ``Pending`` row). The table is flattened once at import so
a lookup is one dict access.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from headrace.engine import state as s
from headrace.engine.errors import InvalidTransitionError

__all__ = [
    "FOLLOWERS",
    "PLAIN_RUN",
    "Event",
    "PlainRun",
    "apply",
    "check",
    "event_for",
    "is_allowed",
    "target_kind",
    "transition",
]


class Event(enum.Enum):
    SCHEDULE = "schedule"
    SUBMIT = "submit"
    START = "start"
    SUCCEED = "succeed"
    FAIL = "fail"
    RETRY = "retry"
    SKIP = "skip"
    TIME_OUT = "time_out"
    TRIGGER_FAIL = "trigger_fail"
    PAUSE = "pause"
    RESUME = "resume"
    CACHE_HIT = "cache_hit"
    MAP = "map"
    CANCEL = "cancel"
    RESTART = "restart"
    LOOP = "loop"

    # Members are singletons compared by identity: hash them by identity too (C speed;
    # Enum's own __hash__ is Python code, and the runner looks an event up per state).
    __hash__ = object.__hash__


E = Event

_WAITING: dict[Event, type[s.State]] = {
    E.SCHEDULE: s.Scheduled,
    E.SUBMIT: s.Submitted,
    E.START: s.Running,
    E.SKIP: s.Skipped,
    E.TRIGGER_FAIL: s.TriggerFailed,
    E.PAUSE: s.Paused,
    E.CACHE_HIT: s.Cached,
    E.MAP: s.Mapped,
    E.FAIL: s.Failed,
    E.RETRY: s.Retrying,
    E.CANCEL: s.Cancelled,
}

TABLE: dict[type[s.State], dict[Event, type[s.State]]] = {
    s.Pending: _WAITING,
    s.Paused: {
        E.RESUME: s.Resume,
        E.PAUSE: s.Paused,
        E.SKIP: s.Skipped,
        E.FAIL: s.Failed,
        E.CANCEL: s.Cancelled,
    },
    s.Running: {
        E.SUCCEED: s.Success,
        E.FAIL: s.Failed,
        E.RETRY: s.Retrying,
        E.SKIP: s.Skipped,
        E.TIME_OUT: s.TimedOut,
        E.TRIGGER_FAIL: s.TriggerFailed,
        E.PAUSE: s.Paused,
        E.MAP: s.Mapped,
        E.CACHE_HIT: s.Cached,
        E.CANCEL: s.Cancelled,
        E.LOOP: s.Looped,
    },
    s.Looped: {E.START: s.Running, E.RESTART: s.Pending, E.CANCEL: s.Cancelled},
    s.Finished: {E.RESTART: s.Pending},
}

_ALL_KINDS = s.KINDS


def _flatten() -> dict[type[s.State], dict[Event, type[s.State]]]:
    flat: dict[type[s.State], dict[Event, type[s.State]]] = {}
    for kind in _ALL_KINDS:
        row = next((TABLE[base] for base in kind.__mro__ if base in TABLE), {})
        flat[kind] = dict(row)
    return flat


_FLAT = _flatten()
_EVENT_FOR: dict[type[s.State], Event] = {}
for _row in TABLE.values():
    for _event, _target in _row.items():
        _EVENT_FOR.setdefault(_target, _event)
_EVENT_FOR[s.Success] = E.SUCCEED


def event_for(kind: type[s.State]) -> Event:
    """The event whose transition produces a state of ``kind``."""
    for base in kind.__mro__:
        if base in _EVENT_FOR:
            return _EVENT_FOR[base]
    raise InvalidTransitionError(f"no event leads to a {kind.__name__} state")


def target_kind(current: type[s.State], event: Event) -> type[s.State]:
    """The kind of state that ``event`` leads to from ``current``; raises if not allowed."""
    try:
        return _FLAT[current][event]
    except KeyError:
        raise InvalidTransitionError(
            f"a {current.__name__} state cannot take the event {event.value!r}"
        ) from None


def transition(current: s.State, event: Event, *args: Any, **kwargs: Any) -> s.State:
    """The state that follows ``current`` on ``event``, built with ``args``/``kwargs``: the
    table decides its kind (raises if ``current`` cannot take ``event``)."""
    row = _FLAT.get(type(current))
    kind = row.get(event) if row is not None else None
    if kind is None:
        kind = target_kind(type(current), event)  # raises, naming both
    return kind(*args, **kwargs)


def _allowed_slow(cur: type[s.State], nxt: type[s.State]) -> bool:
    if cur is nxt:
        return not issubclass(cur, s.Finished)
    row = _FLAT.get(cur)
    if row is None:  # a user's own state kind: its nearest known parent's row
        row = next((TABLE[base] for base in cur.__mro__ if base in TABLE), {})
    return any(issubclass(nxt, target) for target in row.values())


_ALLOWED: dict[type[s.State], frozenset[type[s.State]]] = {
    cur: frozenset(k for k in _ALL_KINDS if _allowed_slow(cur, k)) for cur in _ALL_KINDS
}
#: For each known kind, the kinds that may follow it (what :func:`apply` checks first;
#: runners read it to skip the call on their hot path).
FOLLOWERS: Mapping[type[s.State], frozenset[type[s.State]]] = _ALLOWED


class PlainRun(NamedTuple):
    """The row of a plain task run (see :func:`~headrace.engine.steps.plain`), read from
    the table once: a run given no state starts ``first``, the event ``START`` takes it to
    ``start``, and its attempt's plain ``Success`` (``end``) may follow that. The runners'
    fast path applies these kinds without asking the table again for every run."""

    first: type[s.State]
    start: type[s.State]
    end: type[s.State]


def _plain_run() -> PlainRun:
    start = target_kind(s.Pending, E.START)
    end = target_kind(start, E.SUCCEED)
    if start not in _ALLOWED[s.Pending] or end is not s.Success or end not in _ALLOWED[start]:
        raise InvalidTransitionError("the table has no plain run (Pending -> start -> Success)")
    return PlainRun(s.Pending, start, end)


#: The plain run's row: ``Pending`` -> ``Running`` -> ``Success``, as the table decides.
PLAIN_RUN = _plain_run()


def is_allowed(current: type[s.State] | str, new: type[s.State] | str) -> bool:
    """Whether a state of kind ``new`` may follow one of kind ``current``.

    The server checks every reported transition with this, and the runners check every
    state change. A ``new`` kind is allowed when some event leads from ``current`` to it
    or to a parent of it (``ENDRUN`` may end a running task ``Cancelled``; a restart may
    go straight to ``Scheduled``...). Repeating the same kind is allowed (heartbeats
    re-report ``Running``) except for finished states, which only a restart leaves.
    """
    cur = s.state_class(current) if isinstance(current, str) else current
    nxt = s.state_class(new) if isinstance(new, str) else new
    allowed = _ALLOWED.get(cur)
    if allowed is not None and nxt in _ALLOWED:
        return nxt in allowed
    return _allowed_slow(cur, nxt)


def check(old: s.State, new: s.State) -> None:
    """Raise :class:`InvalidTransitionError` unless ``new`` may follow ``old``."""
    allowed = _ALLOWED.get(type(old))
    if allowed is not None and type(new) in allowed:
        return
    if not is_allowed(type(old), type(new)):
        raise InvalidTransitionError(
            f"a {type(old).__name__} state cannot be followed by a {type(new).__name__} state"
        )


def apply(
    old: s.State,
    new: s.State,
    *,
    task: str | None = None,
    map_index: int | None = None,
    story: Sequence[s.State] = (),
) -> s.State:
    """``new``, when the table lets it follow ``old``; else an
    :class:`InvalidTransitionError` naming ``task`` (``name[map_index]`` for a mapped
    child) and carrying both states and ``story``: the states the run went through so far,
    oldest first (ending with ``old`` when the runner kept it)."""
    allowed = _ALLOWED.get(type(old))
    if (allowed is not None and type(new) in allowed) or is_allowed(type(old), type(new)):
        return new
    if task is not None and map_index is not None:
        task = f"{task}[{map_index}]"
    story = tuple(story) or (old,)
    path = " -> ".join(type(st).__name__ for st in story)
    owner = f"task {task!r}: " if task is not None else ""
    raise InvalidTransitionError(
        f"{owner}a {type(old).__name__} state cannot be followed by a "
        f"{type(new).__name__} state ({new!r}; its states so far: {path})",
        task=task,
        old=old,
        new=new,
        story=story,
    )
