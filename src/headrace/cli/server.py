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
