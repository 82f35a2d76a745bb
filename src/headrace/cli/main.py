"""The ``headrace`` command: entry point and top-level group."""

from __future__ import annotations

import click

from headrace.cli.run import run_command
from headrace.cli.up import up_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="headrace")
def cli() -> None:
    """headrace: workflow orchestration for Python."""


cli.add_command(up_command)
cli.add_command(run_command)


def main() -> None:
    cli()
