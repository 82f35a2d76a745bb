"""``headrace agent local|docker|kubernetes start [--label L ...]``."""

from __future__ import annotations

from typing import Any

import click

from headrace.cli.options import api_option

__all__ = ["agent_group", "make_agent"]

AGENTS = {
    "local": "headrace.agent.local:LocalAgent",
    "docker": "headrace.agent.docker:DockerAgent",
    "kubernetes": "headrace.agent.kubernetes:KubernetesAgent",
}


def make_agent(kind: str, **kwargs: Any) -> Any:
    from headrace.utilities.imports import import_object

    return import_object(AGENTS[kind])(**kwargs)


@click.group("agent")
def agent_group() -> None:
    """Start an agent that runs flow runs with matching labels."""


def _kind_group(kind: str) -> click.Group:
    @click.group(kind, help=f"The {kind} agent.")
    def group() -> None:
        pass

    @group.command("start")
    @click.option("--label", "labels", multiple=True, help="A label (repeat for several).")
    @click.option("--name", default=None, help="Agent name shown in the server.")
    @api_option
    def start(labels: tuple[str, ...], name: str | None, api: str | None) -> None:
        """Poll the server and start flow runs until Ctrl-C."""
        from headrace.configuration import config

        agent = make_agent(kind, labels=list(labels) or None, name=name, api_url=api)
        agent.register()
        click.echo(
            f"{kind} agent {agent.name} polling {agent.api_url} with labels "
            f"{agent.labels or '(none)'} every {agent.poll_interval:g}s "
            f"(max {config.agent.max_concurrent_runs} runs)"
        )
        try:
            agent.run()
        except KeyboardInterrupt:
            click.echo("agent stopped")

    return group


for _kind in AGENTS:
    agent_group.add_command(_kind_group(_kind))
