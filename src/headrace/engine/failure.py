"""What went wrong, kept with the state: an exception as its type, message and traceback.

A failed task run (and a failed attempt before a retry) carries an :class:`ErrorInfo` on its
``Failed`` / ``Retrying`` state, built at the moment of failure from the live exception, so
it survives pickling to and from worker processes (a traceback object does not) and reaches
the server with the state. The traceback shows the user's frames: the headrace frames that
lead into the user's code (the task runner, the attempt loop, the timeout helper) are cut
and counted, so the first frame a reader sees is their own.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from typing import Any

__all__ = ["ErrorInfo", "describe_error", "short_traceback"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
MAX_TRACEBACK = 8_000  # characters kept of a traceback (its end, where the error is)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An exception as plain text: ``type`` (qualified for non-builtins), ``message`` and
    ``traceback`` (user frames, engine frames trimmed; empty when there was none)."""

    type: str
    message: str
    traceback: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    @classmethod
    def from_dict(cls, doc: Any) -> ErrorInfo | None:
        """The error a serialized state holds (None if ``doc`` is not one)."""
        if not isinstance(doc, dict):
            return None
        return cls(
            str(doc.get("type") or "Exception"),
            str(doc.get("message") or ""),
            str(doc.get("traceback") or ""),
        )

    def map_text(self, fn: Any) -> ErrorInfo:
        """A copy with ``fn`` applied to each of its texts (masking secrets)."""
        return ErrorInfo(fn(self.type), fn(self.message), fn(self.traceback))


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _is_engine_frame(frame: traceback.FrameSummary) -> bool:
    return os.path.abspath(frame.filename).startswith(_PACKAGE_DIR)


def _trim(te: traceback.TracebackException, seen: set[int]) -> None:
    """Cut the headrace frames before the first user frame, in ``te`` and its causes."""
    if id(te) in seen:
        return
    seen.add(id(te))
    stack = te.stack
    cut = 0
    while cut < len(stack) and _is_engine_frame(stack[cut]):
        cut += 1
    if 0 < cut < len(stack):  # only when user frames follow: an engine error keeps its own
        te.stack = traceback.StackSummary.from_list(list(stack)[cut:])
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _trim(chained, seen)


def describe_error(exc: BaseException) -> ErrorInfo:
    """``exc`` as an :class:`ErrorInfo`, its traceback trimmed to the user's frames."""
    try:
        te = traceback.TracebackException.from_exception(exc)
        _trim(te, set())
        text = "".join(te.format())
    except Exception as problem:  # a broken __str__ or __repr__ must not hide the failure
        text = f"(the traceback could not be formatted: {problem!r})\n"
    if len(text) > MAX_TRACEBACK:
        text = "...\n" + text[-MAX_TRACEBACK:]
    try:
        message = str(exc)
    except Exception:
        message = f"<{type(exc).__name__} whose str() failed>"
    return ErrorInfo(_type_name(exc), message, text)


def short_traceback(text: str, frames: int = 3) -> str:
    """The last ``frames`` frames of a formatted traceback and its final lines (what a
    terminal shows: where it broke and the error)."""
    lines = text.rstrip("\n").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    if len(starts) <= frames:
        return "\n".join(lines)
    kept = lines[starts[-frames] :]
    return "\n".join(["Traceback (most recent call last, last frames):", *kept])
