"""Bodies of backfills and server-side secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from headrace.wire.base import In, Out
from headrace.wire.names import SECRET_NAME_PATTERN, Time

__all__ = [
    "ArtifactIn",
    "ArtifactOut",
    "BackfillIn",
    "BackfillOut",
    "NotificationRuleIn",
    "NotificationRuleOut",
    "SecretIn",
    "SecretOut",
    "SecretValueOut",
]

SecretName = Field(min_length=1, max_length=200, pattern=SECRET_NAME_PATTERN)


class BackfillIn(In):
    """Create the runs the schedule of ``flow_id``'s flow (its current version) would have
    created from ``start`` to ``end`` inclusive; at most ``max_concurrent`` active at once."""

    flow_id: str = Field(min_length=1, max_length=36)
    start: Time
    end: Time
    max_concurrent: int | None = Field(default=None, ge=1, le=10_000)


class BackfillOut(Out):
    id: str
    flow_id: str
    flow_group_id: str
    start: datetime
    end: datetime
    max_concurrent: int | None
    created: datetime
    run_ids: list[str]
    created_runs: int
    existing_runs: int


class SecretIn(In):
    """A secret's value. It is stored encrypted and never listed."""

    value: str = Field(max_length=65_536)


class SecretOut(Out):
    """A secret as lists show it: its name and times, never its value."""

    name: str
    created: datetime
    updated: datetime


class SecretValueOut(Out):
    """A secret's value, for the runs that need it. ``secret`` marks the field for masking:
    anything logging or echoing a body must replace ``value`` when ``secret`` is true."""

    name: str
    value: str
    secret: bool = True


STATE_NAMES = {
    "Success",
    "Failed",
    "TriggerFailed",
    "TimedOut",
    "Cancelled",
    "Skipped",
    "Running",
    "Submitted",
    "Scheduled",
    "Cancelling",
    "Late",
}


class NotificationRuleIn(In):
    """Post to ``url`` (or the URL kept in server secret ``url_secret``) when a run of the
    flow enters one of ``states``."""

    flow_id: str = Field(min_length=1, max_length=36)
    states: list[str] = Field(min_length=1, max_length=20)
    kind: Literal["webhook", "slack"] = "webhook"
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    url_secret: str | None = Field(default=None, max_length=200)

    @field_validator("states")
    @classmethod
    def _known_states(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - STATE_NAMES)
        if unknown:
            raise ValueError(
                f"unknown state {unknown[0]!r}; use any of {', '.join(sorted(STATE_NAMES))}"
            )
        return sorted(set(value))

    @model_validator(mode="after")
    def _one_target(self) -> NotificationRuleIn:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of url and url_secret")
        return self


class NotificationRuleOut(Out):
    """A rule as listed: a literal URL is shown only as its scheme and host."""

    id: str
    flow_group_id: str
    states: list[str]
    kind: str
    url_secret: str | None
    url_host: str | None = None
    created: datetime


class ArtifactIn(In):
    """An artifact of ``flow_run_id``, made by task run ``task_slug``/``map_index``."""

    flow_run_id: str = Field(min_length=1, max_length=36)
    task_slug: str | None = Field(default=None, max_length=300)
    map_index: int = -1
    kind: Literal["markdown", "link", "table"]
    data: dict[str, Any]

    @model_validator(mode="after")
    def _shape(self) -> ArtifactIn:
        data = self.data
        if self.kind == "markdown" and not isinstance(data.get("markdown"), str):
            raise ValueError("a markdown artifact needs data.markdown (a string)")
        if self.kind == "link" and not isinstance(data.get("link"), str):
            raise ValueError("a link artifact needs data.link (a string)")
        if self.kind == "table":
            rows, columns = data.get("rows"), data.get("columns")
            if not isinstance(rows, list) or not isinstance(columns, list):
                raise ValueError("a table artifact needs data.columns and data.rows (lists)")
            if any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
                raise ValueError("every table row must be a list as long as data.columns")
        if len(str(data)) > 1_000_000:
            raise ValueError("an artifact holds at most 1 MB")
        return self


class ArtifactOut(Out):
    id: str
    flow_run_id: str
    task_run_id: str | None
    kind: str
    data: dict[str, Any]
    created: datetime
