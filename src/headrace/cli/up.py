"""``headrace up``: the main job on embedded defaults."""

from __future__ import annotations

import click

from headrace.cli.summary import print_flow_state

__all__ = ["up_command"]


@click.command("up")
def up_command() -> None:
    """Run the example flows and print a summary of their task states."""
    from headrace.examples.etl import flow

    state = flow.run()
    print_flow_state(flow.name, state)
