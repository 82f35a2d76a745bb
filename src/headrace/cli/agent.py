"""``headrace agent local|docker|kubernetes start [--label L ...]``.

Ctrl-C or SIGTERM stops the agent gracefully: it stops polling, asks its flow runs in flight
to stop (they end ``Failed`` saying the agent stopped, with ``on_exit`` run), waits up to
``agent.stop_grace_period`` seconds, kills what is left, and exits 0. A second Ctrl-C kills
the runs at once.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click

from headrace.cli.options import api_option

__all__ = ["agent_group", "make_agent"]

AGENTS = {
    "local": "headrace.agent.local:LocalAgent",
    "docker": "headrace.agent.docker:DockerAgent",
    "kubernetes": "headrace.agent.kubernetes:KubernetesAgent",
}


#: The package each agent needs and the extra that installs it.
NEEDS = {"docker": ("docker", "docker"), "kubernetes": ("kubernetes", "kubernetes")}


def make_agent(kind: str, **kwargs: Any) -> Any:
    """The agent of ``kind``; its optional dependency is checked first, so a missing one is
    one line naming the extra to install, before anything starts."""
    from headrace.utilities.extras import require_extra
    from headrace.utilities.imports import import_object

    if kind in NEEDS:
        module, extra = NEEDS[kind]
        require_extra(module, extra, f"the {kind} agent")

    return import_object(AGENTS[kind])(**kwargs)


def _stopper(agent: Any) -> Any:
    """The SIGINT/SIGTERM handler of a running agent: the first signal ends its loop at the
    end of the current round (never between claiming a run and starting it); a second one
    raises ``KeyboardInterrupt``, so the stopping runs are killed without waiting."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if agent.stopping_requested():
            raise KeyboardInterrupt
        agent.stop(wait=False)

    return handler


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
    @click.option(
        "--project",
        "projects",
        multiple=True,
        help="Only take runs of this project (name or id; repeat for several). Default: "
        "every project the API key sees.",
    )
    @click.option(
        "--no-hostname-label",
        is_flag=True,
        default=False,
        hidden=kind != "local",
        help="Do not add this host's name as a label (local agent; Local storage flows "
        "carry the name of their host as a label).",
    )
    @api_option
    def start(
        labels: tuple[str, ...],
        name: str | None,
        projects: tuple[str, ...],
        no_hostname_label: bool,
        api: str | None,
    ) -> None:
        """Poll the server and start flow runs until Ctrl-C."""
        from headrace.configuration import config

        extra = {"hostname_label": not no_hostname_label} if kind == "local" else {}
        agent = make_agent(
            kind,
            labels=list(labels) or None,
            name=name,
            api_url=api,
            projects=list(projects) or None,
            **extra,
        )
        handler = _stopper(agent)
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            registered = agent.register_when_up(lambda text: click.echo(text, err=True))
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        if registered is None:
            click.echo("agent stopped")
            return
        click.echo(
            f"{kind} agent {agent.name} polling {agent.api_url} with labels "
            f"{agent.labels or '(none)'}"
            + (f" for projects {agent.projects}" if agent.projects else "")
            + f" every {agent.poll_interval:g}s "
            f"(max {config.agent.max_concurrent_runs} runs)"
        )
        handler = _stopper(agent)
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            agent.run()
            if agent.runs:
                click.echo(f"stopping {len(agent.runs)} flow run(s) in flight")
            agent.stop(wait=False, stop_runs=True)
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        click.echo("agent stopped")

    return group


for _kind in AGENTS:
    agent_group.add_command(_kind_group(_kind))
