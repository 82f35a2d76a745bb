"""``headrace register --path FILE [--project P] [--label L ...]``."""

from __future__ import annotations

import click

from headrace.cli.flowfile import flows_in_file
from headrace.cli.options import api_option, make_client

__all__ = ["register_command"]


@click.command("register")
@click.option("--path", "path", required=True, help="Python file defining the flow(s).")
@click.option("--project", default="default", show_default=True, help="Project to register into.")
@click.option("--label", "labels", multiple=True, help="Extra label for the flow's runs.")
@click.option("--name", default=None, help="Register only the flow with this name.")
@api_option
def register_command(
    path: str, project: str, labels: tuple[str, ...], name: str | None, api: str | None
) -> None:
    """Build each flow's storage, serialize and register it with the server."""
    flows = flows_in_file(path)
    if name:
        flows = [f for f in flows if f.name == name]
        if not flows:
            raise click.BadParameter(f"{path} has no flow named {name!r}", param_hint="--name")
    from headrace.storage import Local

    with make_client(api) as client:
        for flow in flows:
            if flow.storage is None:
                flow.storage = Local(stored_as_script=True, path=path)
            flow_labels = set(labels)
            for part in (flow.storage, flow.environment, flow.run_config):
                flow_labels.update(getattr(part, "labels", None) or ())
            flow_id = client.register(flow, project_name=project, labels=sorted(flow_labels))
            click.echo(f"registered flow {flow.name!r} in project {project!r}: {flow_id}")
