"""The one boundary where user code runs: tasks, triggers, handlers and hooks.

Whatever the user's code raises comes out as :class:`UserCodeError` (the original is its
``__cause__`` and ``.exc``), so the engine can tell a user's bug from its own: anything
else escaping the engine is an engine error. Control signals (``FAIL``, ``SKIP``...) are
``BaseException``s and pass through untouched.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
from collections.abc import Callable
from typing import Any

from headrace.engine.errors import TaskTimeoutError
from headrace.exceptions import HeadraceError

__all__ = ["UserCodeError", "call_user", "call_with_timeout"]


class UserCodeError(HeadraceError):
    """User code raised ``exc`` while headrace ran ``what``."""

    def __init__(self, what: str, exc: BaseException) -> None:
        super().__init__(f"{what} raised {type(exc).__name__}: {exc}")
        self.what = what
        self.exc = exc


def call_user(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call user code; its exceptions come out wrapped in :class:`UserCodeError`."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise UserCodeError(what, exc) from exc


def _interrupt(thread: threading.Thread) -> None:
    """Ask a runaway thread to stop: it raises TaskTimeoutError at its next bytecode."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(TaskTimeoutError)
        )


def call_with_timeout(
    what: str, timeout: float, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Like :func:`call_user`, but gives up after ``timeout`` seconds.

    The call runs on a helper thread with the caller's context. When time is up the caller
    gets :class:`TaskTimeoutError` at once, and the helper thread is interrupted as soon as it
    executes Python bytecode again (a call blocked inside C finishes first).
    """
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, fn(*args, **kwargs)))
        except BaseException as exc:
            outcome.append((False, exc))

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(target,), daemon=True, name=f"timeout:{what}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive() or not outcome:
        _interrupt(thread)
        raise TaskTimeoutError(f"{what} timed out after {timeout:g}s")
    ok, value = outcome[0]
    if ok:
        return value
    if isinstance(value, Exception) and not isinstance(value, TaskTimeoutError):
        raise UserCodeError(what, value) from value
    raise value
