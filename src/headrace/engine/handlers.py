"""State handlers: the user's hooks that see, and may replace, each state change.

Task runs and flow runs both let their handlers replace a new state; the rules for that
live here once, so a replacement is checked the same way whichever runner asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from headrace.engine.boundary import UserCodeError, call_user
from headrace.engine.errors import InvalidTransitionError
from headrace.engine.signals import ENDRUN, HeadraceSignal
from headrace.engine.state import State
from headrace.engine.transitions import check

__all__ = ["check_replacement", "run_handlers"]


def run_handlers(
    owner_label: str,
    owner: Any,
    handlers: Iterable[Callable[..., Any]],
    old: State,
    new: State,
) -> State:
    """``new``, or what the handlers replace it with, each handler seeing the last one's.

    ``owner_label`` names the owner in errors (``"task 'load'"``); a handler that raises or
    returns something that may not follow ``old`` fails the run naming the handler. A
    handler that raises a signal (``FAIL``, ``ENDRUN``...) replaces ``new`` with the
    signal's state: a flow handler raising ``FAIL`` ends the flow run ``Failed``.
    """
    for handler in handlers:
        name = getattr(handler, "__name__", handler)
        what = f"state handler {name!r} of {owner_label}"
        try:
            replaced = call_user(what, handler, owner, old, new)
        except ENDRUN as end:  # a handler may end the run in a state of its choosing
            replaced = end.state
        except HeadraceSignal as signal:  # FAIL, SKIP...: the signal's state, as in a task
            replaced = signal.state
        if replaced is not None:
            check_replacement(what, old, replaced)
            new = replaced
    return new


def check_replacement(what: str, old: State, replaced: Any) -> None:
    """A handler's replacement must be a state that may follow ``old``."""
    if not isinstance(replaced, State):
        raise UserCodeError(
            what, TypeError(f"returned {type(replaced).__name__}, not a State or None")
        )
    try:
        check(old, replaced)
    except InvalidTransitionError as exc:
        raise UserCodeError(what, exc) from None
