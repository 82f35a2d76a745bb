"""Options and helpers shared by the commands that talk to the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["api_option", "make_client", "resolve_flow"]

F = TypeVar("F", bound=Callable[..., Any])


def api_option(fn: F) -> F:
    """``--api URL`` (default: config ``api.url``, i.e. ``HEADRACE__API__URL``)."""
    return click.option(
        "--api",
        "api",
        default=None,
        metavar="URL",
        help="Server URL (default: config api.url / HEADRACE__API__URL).",
    )(fn)


def make_client(api: str | None) -> Any:
    from headrace.client import Client

    return Client(api, retries=1)


def resolve_flow(client: Any, name: str, project: str | None) -> dict[str, Any]:
    """The newest version of flow ``name`` (in ``project`` when given)."""
    project_id = None
    if project:
        found = client.get_projects(name=project)
        if not found:
            raise click.ClickException(f"no project named {project!r}")
        project_id = found[0]["id"]
    flows = client.get_flows(name=name, project_id=project_id)
    if not flows:
        where = f" in project {project!r}" if project else ""
        raise click.ClickException(f"no flow named {name!r}{where} is registered")
    groups = {f["flow_group_id"] for f in flows}
    if len(groups) > 1:
        raise click.ClickException(
            f"several projects have a flow named {name!r}; choose one with --project"
        )
    return max(flows, key=lambda f: f["version"])
