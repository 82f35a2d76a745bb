"""Control signals a task raises to choose its own state.

They derive from :class:`BaseException`, not :class:`Exception`, so a user's
``except Exception:`` around a call cannot swallow them: ``raise SKIP("no new data")``
always reaches the engine and always ends the task ``Skipped``.
"""

from __future__ import annotations

from typing import Any

from headrace.engine import state

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "HeadraceSignal",
    "RunCancelled",
    "signal_from_state",
]


_NO_RESULT: Any = object()


class HeadraceSignal(BaseException):
    """Base of the signals; ``.state`` is the state the task ends in. Its result is
    ``result`` when given, else the signal itself (as in Prefect: a task that skipped or
    whose trigger failed holds the signal that said so)."""

    state_class: type[state.State] = state.State

    def __init__(self, message: str | None = None, *, result: Any = _NO_RESULT) -> None:
        super().__init__(message)
        self.state = self.state_class(message, self if result is _NO_RESULT else result)


class FAIL(HeadraceSignal):
    """End the task ``Failed``."""

    state_class = state.Failed


class TRIGGERFAIL(FAIL):
    """End the task ``TriggerFailed`` (raised by triggers)."""

    state_class = state.TriggerFailed


class VALIDATIONFAIL(FAIL):
    """End the task ``ValidationFailed`` (its result did not pass a check)."""

    state_class = state.ValidationFailed


class SUCCESS(HeadraceSignal):
    """End the task ``Success`` with ``result``."""

    state_class = state.Success


class RETRY(HeadraceSignal):
    """Fail this attempt and retry (even beyond ``max_retries``)."""

    state_class = state.Retrying


class LOOP(HeadraceSignal):
    """End this iteration ``Looped`` with ``result`` and run the task again: the next call
    reads ``context.task_loop_result`` (this ``result``) and ``context.task_loop_count``."""

    state_class = state.Looped


class SKIP(HeadraceSignal):
    """End the task ``Skipped``; downstream tasks skip too unless they opt out."""

    state_class = state.Skipped


class PAUSE(HeadraceSignal):
    """End the task ``Paused`` until it is resumed."""

    state_class = state.Paused


class ENDRUN(BaseException):
    """End the task run in exactly ``state``."""

    def __init__(self, state: state.State) -> None:
        super().__init__(state.message)
        self.state = state


class RunCancelled(BaseException):
    """The flow run is being stopped from outside (cancelled on the server, or its process
    got SIGTERM): raised in the thread running the flow, wherever it is, by
    :mod:`headrace.client.backend.cancel`. A ``BaseException`` so a task's
    ``except Exception:`` cannot swallow it; the task it interrupts ends ``Cancelled``
    (its listeners hear of it) and the signal goes on up to the flow run."""


def signal_from_state(state_: state.State) -> type[HeadraceSignal]:
    """The signal class whose raising ends a task in a state of ``state_``'s kind (the
    closest kind it derives from), as Prefect's ``signal_from_state``."""
    for cls in type(state_).__mro__:
        for signal in _SIGNALS:
            if signal.state_class is cls:
                return signal
    raise ValueError(f"no signal ends a task in state {type(state_).__name__}")


_SIGNALS: tuple[type[HeadraceSignal], ...] = (
    TRIGGERFAIL,
    VALIDATIONFAIL,
    FAIL,
    SUCCESS,
    RETRY,
    LOOP,
    SKIP,
    PAUSE,
)
