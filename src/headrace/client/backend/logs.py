"""``BackendLogHandler``: log records of a flow run go to the server with the run's states.

Each record is tagged with the task run it came from (the run context's ``task_slug`` and
``map_index``) and queued on the run's :class:`Reporter`; it reaches the server in the next
batch. Secret values (the ``[context.secrets]`` config section, environment variables a
storage lists as ``secrets``, the API key, every value ``Secret(name).get()`` resolved in
this process) are replaced by ``********`` before a record leaves the process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from headrace.client.backend.reporter import Reporter, log_record
from headrace.runcontext import current

__all__ = ["BackendLogHandler", "secret_values"]

MASK = "********"


def secret_values(names: Iterable[str] = ()) -> list[str]:
    """The secret strings of this process worth masking (longest first, 4+ characters)."""
    from headrace.configuration import config

    found: set[str] = set()
    secrets = config.get("context", {}).get("secrets", {})
    if hasattr(secrets, "values"):
        found.update(str(v) for v in secrets.values())
    for name in names:
        value = os.environ.get(name)
        if value is not None:
            found.add(value)
    key = config.get("api", {}).get("key")
    if key:
        found.add(str(key))
    return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)


class BackendLogHandler(logging.Handler):
    """Queues every record it handles on ``reporter`` (never blocking the reporter itself)."""

    def __init__(
        self, reporter: Reporter | None, secrets: Iterable[str] = (), level: int = logging.NOTSET
    ) -> None:
        super().__init__(level)
        self.reporter = reporter
        self.secrets = list(secrets)

    def redact(self, text: str) -> str:
        from headrace.client.secrets import resolved_secret_values

        for value in [*self.secrets, *resolved_secret_values()]:
            if value in text:
                text = text.replace(value, MASK)
        return text

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
