"""headrace's loggers: the standard library's, configured once, one per component.

``get_logger("flow_runner")`` gives ``headrace.flow_runner``. Nothing here costs anything
per task unless the level is enabled: callers use the stdlib's lazy ``%s`` formatting.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, TextIO

__all__ = ["configure_logging", "get_logger", "stdout_capture"]

_configured = False


def configure_logging(level: str | None = None) -> logging.Logger:
    """Attach one stream handler to the ``headrace`` logger (idempotent)."""
    global _configured
    from headrace.configuration import config

    root = logging.getLogger("headrace")
    chosen = str(level or config.logging.level).upper()
    if not isinstance(logging.getLevelName(chosen), int):
        from headrace.exceptions import ConfigError

        raise ConfigError(
            f"logging level {chosen!r} (config logging.level, HEADRACE__LOGGING__LEVEL) is not "
            f"one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
    root.setLevel(chosen)
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(config.logging.format, config.logging.datefmt))
        root.addHandler(handler)
        root.propagate = False
        _configured = True
    return root


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``headrace`` logger, or its child ``headrace.<name>``."""
    if not _configured:
        configure_logging()
    return logging.getLogger("headrace" if not name else f"headrace.{name}")


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
