"""The server's settings, read from the ``[server]`` config section.

:func:`ServerSettings.from_config` takes the documented defaults (``headrace/config.toml``)
and lets callers override any field, so ``create_app(database_url=...)`` works without
touching the global config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ServerSettings", "default_database_url"]


def default_database_url(home_dir: str | None = None) -> str:
    """The embedded default: a SQLite file ``headrace.db`` under ``home_dir``."""
    from headrace.configuration import config

    home = Path(home_dir or config.home_dir).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'headrace.db'}"


@dataclass(frozen=True)
class ServerSettings:
    """Everything the server process needs to know; see ``[server]`` in config.toml."""

    database_url: str = ""
    require_api_key: bool = False
    heartbeat_timeout: float = 60.0
    submitted_timeout: float = 600.0
    schedule_horizon: float = 3600.0
    schedule_max_runs: int = 10
    late_after: float = 30.0
    services_interval: float = 5.0
    run_services: bool = True
    flow_run_max_retries: int = 0
    sqlite_busy_timeout: float = 30.0
    sqlite_checkpoint_interval: float = 1.0
    report_batch_ttl: float = 86400.0
    log_retention_days: float = 30.0
    log_retention_batch_size: int = 1000
    max_body_bytes: int = 32 * 1024 * 1024
    max_log_message_chars: int = 20_000
    allow_shared_sqlite: bool = False
    run_token_ttl: float = 86400.0
    request_threads: int = 4
    # Never in a repr or a log line: it opens every stored secret.
    secrets_key: str = dataclasses.field(default="", repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.request_threads, int) or self.request_threads < 1:
            raise ValueError(
                f"server.request_threads must be a whole number of at least 1, "
                f"not {self.request_threads!r}"
            )

    @classmethod
    def from_config(cls, **overrides: Any) -> ServerSettings:
        """Settings from ``headrace.config.server``, with ``overrides`` taking precedence."""
        from headrace.configuration import config

        section = dict(config.get("server", {}))
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(f"unknown server setting(s): {', '.join(sorted(unknown))}")
        values = {k: v for k, v in section.items() if k in names}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("database_url"):
            values["database_url"] = default_database_url()
        return cls(**values)
