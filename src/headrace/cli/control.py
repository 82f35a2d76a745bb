"""``headrace cancel RUN`` and ``headrace restart RUN``."""

from __future__ import annotations

import click

from headrace.cli.ids import resolve_run_id
from headrace.cli.options import api_option, make_client

__all__ = ["cancel_command", "restart_command"]


@click.command("cancel")
@click.argument("flow_run_id", metavar="RUN")
@api_option
def cancel_command(flow_run_id: str, api: str | None) -> None:
    """Cancel a flow run (its agent stops its process)."""
    with make_client(api) as client:
        flow_run_id = resolve_run_id(client, flow_run_id)
        run = client.cancel_flow_run(flow_run_id)
    click.echo(f"flow run {flow_run_id}: {run['state']}")


@click.command("restart")
@click.argument("flow_run_id", metavar="RUN")
@api_option
def restart_command(flow_run_id: str, api: str | None) -> None:
    """Restart a finished run: only task runs that did not succeed run again."""
    with make_client(api) as client:
        flow_run_id = resolve_run_id(client, flow_run_id)
        run = client.restart_flow_run(flow_run_id)
    counts = run.get("task_run_counts") or {}
    kept = sum(n for k, n in counts.items() if k != "Pending")
    click.echo(f"flow run {flow_run_id}: {run['state']} ({kept} task run(s) kept)")
