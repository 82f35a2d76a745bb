"""``headrace execute flow-run --id RUN``: what agents start for each flow run."""

from __future__ import annotations

import os
import sys

import click

from headrace.cli.options import api_option

__all__ = ["execute_group"]


@click.group("execute")
def execute_group() -> None:
    """Execute work handed out by the server (used by agents)."""


@execute_group.command("flow-run")
@click.option(
    "--id",
    "flow_run_id",
    default=None,
    help="Flow run id (default: HEADRACE__CONTEXT__FLOW_RUN_ID).",
)
@api_option
def execute_flow_run_command(flow_run_id: str | None, api: str | None) -> None:
    """Load the run's flow from its storage and run it in its environment, reporting to the
    server; exits 0 when the run succeeded."""
    from headrace.client import Client
    from headrace.client.backend import execute_flow_run, flow_run_id_from_context
    from headrace.client.backend.cancel import stop_was_requested
    from headrace.configuration import config
    from headrace.utilities.logging import configure_logging

    configure_logging()
    flow_run_id = flow_run_id or flow_run_id_from_context()
    if not flow_run_id:
        raise click.UsageError("give --id RUN (or set HEADRACE__CONTEXT__FLOW_RUN_ID)")
    if api:
        config.api["url"] = api
    with Client(api) as client:
        state = execute_flow_run(flow_run_id, client=client)
    click.echo(f"flow run {flow_run_id}: {state}")
    code = 0 if state == "Success" else 1
    if stop_was_requested():
        # The run is over; threads of tasks that were interrupted on an executor's workers
        # may still be blocked: do not wait for them (nor for the agent's kill).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
