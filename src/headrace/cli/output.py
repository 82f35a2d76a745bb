"""How commands print: rich tables on a console that is not cut to 80 columns when the
output is piped, and ``--output json`` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

__all__ = ["emit_json", "make_console", "output_option"]

F = TypeVar("F", bound=Callable[..., Any])
PIPE_WIDTH = 400  # a piped table keeps whole ids and messages (rich would assume 80)


def make_console(file: Any = None) -> Console:
    """A console for tables: the terminal's width on a terminal, wide when piped."""
    stream = file or sys.stdout
    if stream.isatty():
        return Console(file=stream)
    return Console(file=stream, width=PIPE_WIDTH, soft_wrap=False)


def output_option(fn: F) -> F:
    """``--output table|json`` (default ``table``)."""
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Print a table, or JSON for scripts.",
    )(fn)


def emit_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))
