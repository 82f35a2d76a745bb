"""Pausing Python's cyclic garbage collector while a graph is built.

Building a flow makes many small objects that all stay alive (tasks, edges, slugs, the
lists and dicts that index them), and the engine's expansion of a big map makes one state
per child. The cyclic collector runs whenever enough objects were made since its last
pass, and a full pass walks every object alive: for a graph that only grows, that is work
for nothing, and it makes building a wide or long flow slightly more than linear. So the
collector is paused while a flow is built (``with Flow(...)``, ``Flow(tasks=, edges=)``)
and while the engine expands a map, and turned back on when the outermost such block ends
-- whatever ends it, an error too. A block started while the collector was already off
(the user turned it off) leaves it off.

A flow run inside its own ``with Flow(...)`` block runs with the collector on
(:func:`lifted`): a run executes user code, which may make garbage cycles.

The pause is process-wide (the collector is) and counted, so nested and concurrent
blocks end it only once the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["is_paused", "lifted", "pause", "paused", "resume"]

_lock = threading.Lock()
_depth = 0  # pauses open now
_resume = False  # whether the collector was on when the outermost pause began
_lifts: list[int] = []  # for each open lift, how many pauses were open when it began


def _apply() -> None:
    """Set the collector as the open pauses and lifts say (under ``_lock``): off while a
    pause opened after the latest lift is open, else as it was before the first pause."""
    if _depth == 0:  # no pause open: the collector is the user's
        return
    if _depth > (_lifts[-1] if _lifts else 0):
        gc.disable()
    elif _resume:
        gc.enable()


def pause() -> None:
    """Begin a block without the cyclic collector (call :func:`resume` to end it)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
        _depth += 1
        _apply()


def resume() -> None:
    """End a block :func:`pause` began; the last one turns the collector back on if it was
    on before."""
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth == 0 and _resume:
            gc.enable()
        _apply()


def is_paused() -> bool:
    """Whether a pause has the collector off now."""
    with _lock:
        return _depth > (_lifts[-1] if _lifts else 0)


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused for the ``with`` block, resumed however the block ends."""
    pause()
    try:
        yield
    finally:
        resume()


@contextmanager
def lifted() -> Iterator[None]:
    """The pauses open now lifted for the ``with`` block (a flow run started inside a
    ``with Flow(...)`` block runs with the collector as it was before the block); pauses
    opened inside it still pause, and the lifted ones pause again after it."""
    with _lock:
        mark = _depth
        _lifts.append(mark)
        _apply()
    try:
        yield
    finally:
        with _lock:
            _lifts.remove(mark)
            _apply()
