"""``headrace flow schedule on|off --name FLOW``: turn a flow's schedule on or off (the
switch belongs to every version of the flow; the scheduler stops or resumes creating runs)."""

from __future__ import annotations

import click

from headrace.cli.options import api_option, make_client, resolve_flow

__all__ = ["flow_group"]


@click.group("flow")
def flow_group() -> None:
    """Manage a registered flow."""


@flow_group.command("schedule")
@click.argument("switch", type=click.Choice(["on", "off"]))
@click.option("--name", required=True, help="Flow name.")
@click.option("--project", default=None, help="Project of the flow (when names clash).")
@api_option
def schedule_command(switch: str, name: str, project: str | None, api: str | None) -> None:
    """Turn the flow's schedule on or off."""
    with make_client(api) as client:
        flow = resolve_flow(client, name, project)
        group = client.set_schedule_active(flow["flow_group_id"], switch == "on")
    active = bool(group.get("schedule_active"))
    note = "" if flow.get("schedule") else " (the flow has no schedule yet)"
    click.echo(f"schedule of flow {name!r}: {'on' if active else 'off'}{note}")
