"""Bodies of backfills and server-side secrets."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from headrace.server.schemas.base import In, Out

__all__ = ["BackfillIn", "BackfillOut", "SecretIn", "SecretOut", "SecretValueOut"]

SecretName = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")


class BackfillIn(In):
    """Create the runs the schedule of ``flow_id``'s flow (its current version) would have
    created from ``start`` to ``end`` inclusive; at most ``max_concurrent`` active at once."""

    flow_id: str = Field(min_length=1, max_length=36)
    start: datetime
    end: datetime
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
