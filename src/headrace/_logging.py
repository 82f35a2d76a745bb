"""headrace's loggers: the standard library's ``headrace`` logger, configured once from config.

This is the bottom of the logging helpers, beside :mod:`headrace.configuration`, so the run
context (``context.logger``) can derive loggers without importing :mod:`headrace.utilities`,
which sits above it. The public path is :mod:`headrace.utilities.logging`.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging", "get_logger"]

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
