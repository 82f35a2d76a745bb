"""``headrace backfill --name F --start T --end T``: the runs a flow's schedule would have
created in a window, made now (once each: asking again creates nothing new)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from headrace.cli.options import api_option, make_client, resolve_flow

__all__ = ["backfill_command"]


def _when(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or datetime (e.g. 2026-01-31T06:00+01:00)",
            param_hint=option,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("backfill")
@click.option("--name", required=True, help="Flow name.")
@click.option("--project", default=None, help="Project of the flow (when names clash).")
@click.option("--start", required=True, help="Window start, ISO 8601 (naive means UTC).")
@click.option("--end", required=True, help="Window end (included), ISO 8601.")
@click.option(
    "--max-concurrent",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many of the backfill's runs active at once (default: no cap).",
)
@api_option
def backfill_command(
    name: str,
    project: str | None,
    start: str,
    end: str,
    max_concurrent: int | None,
    api: str | None,
) -> None:
    """Create the runs the schedule of flow NAME would have created from START to END."""
    begin, finish = _when(start, "--start"), _when(end, "--end")
    if finish < begin:
        raise click.BadParameter(f"{end} is before --start {start}", param_hint="--end")
    with make_client(api) as client:
        flow = resolve_flow(client, name, project)
        result = client.backfill(flow["id"], begin, finish, max_concurrent=max_concurrent)
    cap = f", at most {max_concurrent} at once" if max_concurrent else ""
    click.echo(
        f"backfill {result['id']} of {name!r}: {result['created_runs']} run(s) created, "
        f"{result['existing_runs']} already existed{cap}"
    )
