"""``headrace run --path FILE``: run a flow file locally, no server needed."""

from __future__ import annotations

import sys

import click

from headrace.cli.flowfile import flows_in_file, parse_params
from headrace.cli.summary import print_flow_state

__all__ = ["run_command"]


@click.command("run")
@click.option("--path", "path", type=str, help="Python file defining the flow.")
@click.option("--name", "name", type=str, default=None, help="Which flow in the file.")
@click.option("--param", "params", multiple=True, help="Parameter as key=value (JSON values).")
def run_command(path: str | None, name: str | None, params: tuple[str, ...]) -> None:
    """Run a flow locally and print each task's final state."""
    if not path:
        raise click.UsageError("give --path FILE")
    flows = flows_in_file(path)
    if name:
        flows = [f for f in flows if f.name == name]
        if not flows:
            raise click.BadParameter(f"{path} has no flow named {name!r}", param_hint="--name")
    if len(flows) > 1:
        raise click.UsageError(f"{path} defines several flows; choose one with --name")
    flow = flows[0]
    state = flow.run(parameters=parse_params(params))
    print_flow_state(flow.name, state)
    sys.exit(0 if state.is_successful() else 1)
