"""The ``headrace`` command: entry point and top-level group.

Errors a user can act on (server down, unknown flow, refused input) end the command with
one readable line, not a traceback.
"""

from __future__ import annotations

import sys

import click

from headrace.cli.agent import agent_group
from headrace.cli.backfill import backfill_command
from headrace.cli.control import cancel_command, restart_command
from headrace.cli.describe import describe_group
from headrace.cli.execute import execute_group
from headrace.cli.flow import flow_group
from headrace.cli.get import get_group
from headrace.cli.register import register_command
from headrace.cli.run import run_command
from headrace.cli.secret import secret_group
from headrace.cli.server import server_group
from headrace.cli.up import up_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="headrace")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """headrace: workflow orchestration for Python."""


for command in (
    up_command,
    server_group,
    agent_group,
    register_command,
    run_command,
    get_group,
    describe_group,
    flow_group,
    cancel_command,
    restart_command,
    execute_group,
    backfill_command,
    secret_group,
):
    cli.add_command(command)


def main() -> None:
    from headrace.client.errors import ApiError, ServerUnavailableError
    from headrace.exceptions import HeadraceError

    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ServerUnavailableError as exc:
        click.echo(f"Error: the headrace server is not reachable ({exc})", err=True)
        sys.exit(2)
    except ApiError as exc:
        click.echo(f"Error: the server refused: {exc}", err=True)
        sys.exit(1)
    except HeadraceError as exc:
        if "--debug" in sys.argv[1:2]:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
