"""``headrace server start``: serve the API (SQLite under ``home_dir`` unless ``--database``)."""

from __future__ import annotations

import click

__all__ = ["server_group"]


@click.group("server")
def server_group() -> None:
    """Run the headrace server."""


@server_group.command("start")
@click.option("--host", default=None, help="Interface to listen on (default: config server.host).")
@click.option("--port", default=None, type=int, help="Port (default: config server.port, 4200).")
@click.option("--database", default=None, metavar="URL", help="Database URL (default: SQLite).")
def start_command(host: str | None, port: int | None, database: str | None) -> None:
    """Serve the API until Ctrl-C."""
    from headrace.server.serve import serve

    serve(host=host, port=port, database_url=database)


@server_group.command("create-api-key")
@click.option("--name", default="admin", show_default=True, help="A name to recognise the key by.")
@click.option(
    "--project",
    "project_ids",
    multiple=True,
    metavar="ID",
    help="Limit the key to this project (repeatable); without it the key sees every project.",
)
@click.option("--database", default=None, metavar="URL", help="Database URL (default: SQLite).")
def create_api_key_command(name: str, project_ids: tuple[str, ...], database: str | None) -> None:
    """Create an API key directly in the server's database and print it once.

    This is how a server started with ``server.require_api_key`` gets its first key; later
    keys can also be made through the API. Only a hash is stored, so keep the printed key.
    """
    from headrace.server.domain.auth import issue_api_key

    key = issue_api_key(database_url=database, name=name, project_ids=list(project_ids) or None)
    click.echo(key)
