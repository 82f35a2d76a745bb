"""``BackendLogHandler``: log records of a flow run go to the server with the run's states.

Each record is tagged with the task run it came from (the run context's ``task_slug`` and
``map_index``) and queued on the run's :class:`Reporter`; it reaches the server in the next
batch. Secret values (the ``[context.secrets]`` config section, environment variables a
storage lists as ``secrets``, the API key, ``HEADRACE__...KEY`` and other secret-named
variables, every value ``Secret(name).get()`` resolved in this process) are replaced by
``********`` before a record leaves the process, through the one masking path,
:func:`headrace.utilities.secrets.redact` (state messages and agent output use it too).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from headrace.client.backend.reporter import Reporter, log_record
from headrace.runcontext import current
from headrace.utilities.secrets import MASK, known_secrets, redact, remember_secrets
from headrace.utilities.secrets import redact as mask_secrets

__all__ = ["MASK", "BackendLogHandler", "mask_secrets", "secret_values"]


def secret_values(names: Iterable[str] = ()) -> list[str]:
    """The secret strings of this process worth masking (longest first, 4+ characters):
    the values of the environment variables ``names`` (a storage's ``secrets``) -- which
    from now on every masked text in this process hides too -- and every secret the process
    already knows (config, API key, secret-named environment variables)."""
    remember_secrets(os.environ[name] for name in names if name in os.environ)
    return known_secrets(fresh=True)


class BackendLogHandler(logging.Handler):
    """Queues every record it handles on ``reporter`` (never blocking the reporter itself)."""

    def __init__(
        self, reporter: Reporter | None, secrets: Iterable[str] = (), level: int = logging.NOTSET
    ) -> None:
        super().__init__(level)
        self.reporter = reporter
        self.secrets = list(secrets)

    def redact(self, text: str) -> str:
        """``text`` masked: this handler's secrets and every one the process knows."""
        return redact(text, self.secrets)

    def target(self) -> Reporter | None:
        """The reporter this record goes to (None: not forwarded)."""
        return self.reporter

    def emit(self, record: logging.LogRecord) -> None:
        reporter = self.target()
        if reporter is None or reporter.is_own_thread():
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            ctx = current()
            index = ctx.get("map_index")
            reporter.log(
                log_record(
                    self.redact(message),
                    record.levelno,
                    record.name,
                    record.created,
                    ctx.get("task_slug"),
                    -1 if index is None and ctx.get("task_slug") else index,
                )
            )
        except Exception:
            self.handleError(record)
