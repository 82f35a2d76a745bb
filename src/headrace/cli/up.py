"""``headrace up``: the main job in one process on embedded defaults.

It serves the API and UI on a SQLite file under ``home_dir`` (services included: scheduler,
zombie reaper, late-run watcher), registers the example flows (``headrace.examples``, with
``Module`` storage so they load from the installed package), starts one run of each
unscheduled example, and runs a local agent in the same process. Ctrl-C (SIGINT) or SIGTERM
first stops the agent while the server still serves: its flow runs in flight are asked to
stop and end ``Failed`` saying the agent stopped (their ``on_exit`` runs; see
:mod:`headrace.agent.base`), within ``agent.stop_grace_period`` seconds; then the server
stops. A second Ctrl-C stops the server at once.
"""

from __future__ import annotations

import importlib
import signal
import threading
from types import FrameType
from typing import Any

import click

__all__ = ["register_examples", "up_command"]


def _server_stopping_agent_first(config: Any, agent: Any) -> Any:
    """A ``uvicorn.Server`` whose first SIGINT/SIGTERM stops ``agent`` and its runs before
    the server shuts down (the runs report their end to it); a second signal does not wait."""
    import uvicorn

    class Server(uvicorn.Server):
        stopping = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.stopping:  # asked again: stop serving now
                self.force_exit = self.force_exit or sig == signal.SIGINT
                self.should_exit = True
                return
            self.stopping = True
            threading.Thread(target=self._stop_agent, name="headrace-up-stop", daemon=True).start()

        def _stop_agent(self) -> None:
            try:
                agent.stop(wait=True, stop_runs=True)
            except BaseException as exc:  # never keep the server up because of it
                agent.logger.error("stopping the agent failed: %s", exc)
            finally:
                self.should_exit = True

    return Server(config)


def _remember(url: str, config: Any) -> None:
    """Make later commands find this server without ``--api``: write its URL to the user's
    config file (unless the config already points there) and say so."""
    import os

    from headrace.cli.userconfig import set_user_value

    current = str(config.get("api", {}).get("url") or "").rstrip("/")
    if current == url:
        return
    try:
        path = set_user_value("api", "url", url)
    except OSError as exc:
        click.echo(f"note: later commands need --api {url} (could not save it: {exc})")
        return
    click.echo(f"saved api.url = {url} in {path}: later headrace commands use this server")
    if os.environ.get("HEADRACE__API__URL", "").rstrip("/") not in ("", url):
        click.echo("  (HEADRACE__API__URL is set in this shell and takes precedence)")


def register_examples(client: Any, project: str = "examples") -> list[dict[str, Any]]:
    """Register every example flow; returns ``{name, id, scheduled}`` for each."""
    import warnings

    from headrace.examples import EXAMPLES
    from headrace.serialization.errors import HealthCheckWarning
    from headrace.storage.module import Module

    done = []
    warnings.simplefilter("ignore", HealthCheckWarning)  # the backend checkpoints by default
    for module_name in EXAMPLES:
        flow = importlib.import_module(module_name).flow
        flow.storage = Module(f"{module_name}:flow")
        flow_id = client.register(flow, project_name=project, schedule_active=True)
        done.append({"name": flow.name, "id": flow_id, "scheduled": flow.schedule is not None})
    return done


@click.command("up")
@click.option("--host", default=None, help="Interface to listen on (default: config server.host).")
@click.option("--port", default=None, type=int, help="Port (default: config server.port, 4200).")
@click.option("--database", default=None, metavar="URL", help="Database URL (default: SQLite).")
@click.option("--no-examples", is_flag=True, help="Do not register or run the example flows.")
def up_command(host: str | None, port: int | None, database: str | None, no_examples: bool) -> None:
    """Server + local agent + example flows, in one process, until Ctrl-C."""
    import uvicorn

    from headrace.agent.local import LocalAgent
    from headrace.client import Client
    from headrace.configuration import config
    from headrace.server.http.app import create_app
    from headrace.server.settings import ServerSettings
    from headrace.utilities.logging import configure_logging

    configure_logging()
    host = host or config.server.host
    port = int(port or config.server.port)
    settings = ServerSettings.from_config(database_url=database)
    url = f"http://{host}:{port}"
    agent = LocalAgent(api_url=url, name="headrace-up-local-agent")
    server = _server_stopping_agent_first(
        uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning"), agent
    )
    failure: list[BaseException] = []

    def after_start() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        try:
            with Client(url) as client:
                click.echo(f"headrace is up: API {url}/api (docs {url}/docs), UI {url}/")
                click.echo(f"database: {settings.database_url}")
                _remember(url, config)
                if not no_examples:
                    for example in register_examples(client):
                        if example["scheduled"]:
                            click.echo(f"  example {example['name']!r}: registered, scheduled")
                        else:
                            run = client.create_flow_run(example["id"])
                            click.echo(
                                f"  example {example['name']!r}: registered, run {run['id']}"
                            )
            agent.start()
            click.echo(
                f"local agent polling every {agent.poll_interval:g}s; Ctrl-C stops everything"
            )
        except BaseException as exc:
            failure.append(exc)
            server.should_exit = True

    threading.Thread(target=after_start, name="headrace-up", daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
        pass
    finally:  # the runs were stopped before the server went down; kill any left at once
        agent.stop(wait=True, stop_runs=True, grace=0)
    if failure:
        raise click.ClickException(f"headrace up failed: {failure[0]}")
    if not server.started:
        raise click.ClickException(f"the server could not start on {url} (is the port taken?)")
    click.echo("headrace stopped")
