"""headrace's loggers: the standard library's, configured once, one per component.

``get_logger("flow_runner")`` gives ``headrace.flow_runner``. Nothing here costs anything
per task unless the level is enabled: callers use the stdlib's lazy ``%s`` formatting.
``configure_logging`` and ``get_logger`` live in :mod:`headrace._logging` (below the run
context, which derives ``context.logger`` from them); this module adds stdout capture.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, TextIO

from headrace._logging import configure_logging, get_logger

__all__ = ["configure_logging", "get_logger", "stdout_capture"]


class _ThreadStdout:
    """A ``sys.stdout`` stand-in that sends a thread's prints to its logger while captured.

    ``contextlib.redirect_stdout`` swaps the stream for every thread at once; this one only
    diverts the threads that asked, so a task with ``log_stdout=True`` on a thread pool
    never captures its neighbours' prints.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._local = threading.local()

    def _target(self) -> list[Any] | None:
        return getattr(self._local, "target", None)

    def write(self, text: str) -> int:
        target = self._target()
        if target is None:
            return self._stream.write(text)
        target[1].append(text)
        if "\n" in text:
            self._flush_lines(target)
        return len(text)

    def _flush_lines(self, target: list[Any]) -> None:
        logger, buffer = target
        data = "".join(buffer)
        *lines, rest = data.split("\n")
        buffer[:] = [rest] if rest else []
        for line in lines:
            if line:
                logger.info(line)

    def flush(self) -> None:
        if self._target() is None:
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class stdout_capture:
    """Context manager: lines this thread prints go to ``logger.info`` instead."""

    _lock = threading.Lock()

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def __enter__(self) -> stdout_capture:
        with self._lock:
            if not isinstance(sys.stdout, _ThreadStdout):
                sys.stdout = _ThreadStdout(sys.stdout)
            self.proxy = sys.stdout
        self.previous = self.proxy._target()
        self.proxy._local.target = [self.logger, []]
        return self

    def __exit__(self, *exc: object) -> None:
        target = self.proxy._target()
        if target and target[1]:
            target[1].append("\n")
            self.proxy._flush_lines(target)
        self.proxy._local.target = self.previous
