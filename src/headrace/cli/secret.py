"""``headrace secret set NAME | list | delete NAME``: the server's secrets.

``set`` reads the value from ``--value``, else from standard input when it is piped, else
from a hidden prompt; the value is never echoed, and ``list`` shows names only.
"""

from __future__ import annotations

import sys

import click

from headrace.cli.options import api_option, make_client

__all__ = ["secret_group"]


@click.group("secret")
def secret_group() -> None:
    """Set, list or delete server-side secrets (values are stored encrypted)."""


@secret_group.command("set")
@click.argument("name")
@click.option("--value", default=None, help="The value (default: stdin, or a hidden prompt).")
@api_option
def set_secret(name: str, value: str | None, api: str | None) -> None:
    """Store secret NAME on the server."""
    if value is None:
        if sys.stdin.isatty():
            value = click.prompt(f"value of {name}", hide_input=True)
        else:
            value = sys.stdin.read().rstrip("\n")
    with make_client(api) as client:
        client.set_secret(name, value)
    click.echo(f"secret {name!r} set")


@secret_group.command("list")
@api_option
def list_secrets(api: str | None) -> None:
    """Names of the server's secrets (never values)."""
    with make_client(api) as client:
        for row in client.get_secrets():
            click.echo(f"{row['name']}\t(updated {str(row['updated'])[:19]})")


@secret_group.command("delete")
@click.argument("name")
@api_option
def delete_secret(name: str, api: str | None) -> None:
    """Delete secret NAME."""
    with make_client(api) as client:
        client.delete_secret(name)
    click.echo(f"secret {name!r} deleted")
