"""Flow run ids as the user types them: the full id or any unique prefix of it (agents and
tables print short ids)."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["FULL_ID_LENGTH", "resolve_run_id"]

FULL_ID_LENGTH = 36


def resolve_run_id(client: Any, given: str) -> str:
    """The flow run id ``given`` starts; a clear error when none or several match."""
    given = given.strip().lower()
    if not given:
        raise click.BadParameter("a flow run id is empty", param_hint="RUN")
    if len(given) >= FULL_ID_LENGTH:
        return given
    found = client.get_flow_runs(id_prefix=given, limit=5)
    if not found:
        raise click.BadParameter(f"no flow run id starts with {given!r}", param_hint="RUN")
    if len(found) > 1:
        ids = ", ".join(r["id"] for r in found)
        raise click.BadParameter(
            f"{given!r} starts several flow run ids ({ids}); give more characters",
            param_hint="RUN",
        )
    return str(found[0]["id"])
