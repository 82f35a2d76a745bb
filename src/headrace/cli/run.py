"""``headrace run``: ``--path FILE`` runs a flow here (no server); ``--name FLOW`` creates a
flow run on the server (``--watch`` follows it until it finishes)."""

from __future__ import annotations

import sys

import click

from headrace.cli.flowfile import check_params, flows_in_file, parse_params
from headrace.cli.options import api_option, make_client, resolve_flow
from headrace.cli.summary import print_flow_state

__all__ = ["run_command"]


@click.command("run")
@click.option("--path", "path", type=str, default=None, help="Run the flow in this file locally.")
@click.option(
    "--name", "name", type=str, default=None, help="Flow name (on the server, or in --path)."
)
@click.option("--project", default=None, help="Project of --name (when names clash).")
@click.option("--param", "params", multiple=True, help="Parameter as key=value (JSON values).")
@click.option(
    "--label", "labels", multiple=True, help="Labels of the new run (default: the flow's)."
)
@click.option(
    "--watch", is_flag=True, help="Follow the server run: task counts, map progress, logs."
)
@api_option
def run_command(
    path: str | None,
    name: str | None,
    project: str | None,
    params: tuple[str, ...],
    labels: tuple[str, ...],
    watch: bool,
    api: str | None,
) -> None:
    """Run a flow locally (--path) or through the server (--name)."""
    if path:
        _run_local(path, name, params)
        return
    if not name:
        raise click.UsageError("give --path FILE (local run) or --name FLOW (server run)")
    with make_client(api) as client:
        flow = resolve_flow(client, name, project)
        values = parse_params(params)
        document = flow.get("document") or client.get_flow(flow["id"]).get("document") or {}
        check_params(values, document.get("parameters") or [], name)
        run = client.create_flow_run(flow["id"], parameters=values, labels=list(labels) or None)
        click.echo(f"created flow run {run['name']} ({run['id']}) of {name!r} v{flow['version']}")
        if not watch:
            return
        from headrace.cli.watch import watch_flow_run

        final = watch_flow_run(client, run["id"])
    sys.exit(0 if final == "Success" else 1)


def _run_local(path: str, name: str | None, params: tuple[str, ...]) -> None:
    flows = flows_in_file(path)
    if name:
        flows = [f for f in flows if f.name == name]
        if not flows:
            raise click.BadParameter(f"{path} has no flow named {name!r}", param_hint="--name")
    if len(flows) > 1:
        raise click.UsageError(f"{path} defines several flows; choose one with --name")
    flow = flows[0]
    values = parse_params(params)
    specs = [{"name": p.name, "default": p.default} for p in flow.parameters()]
    check_params(values, specs, flow.name)
    state = flow.run(parameters=values)
    print_flow_state(flow.name, state)
    sys.exit(0 if state.is_successful() else 1)
