"""The reference document's flow with Docker storage (image built and pushed to a registry
on localhost) picked up by a DockerAgent with matching labels: the run's container (host
networking) runs the custom environment, ``on_start``/``on_exit`` included, reports states
and logs to the server, and is removed afterwards. Real dockerd, registry and server."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from tests.agent.backend_support import wait_for, wait_for_state

from headrace.agent.docker import DockerAgent
from headrace.client import Client
from headrace.configuration import config
from support.docker import (
    DockerDaemon,
    _session_wheel_cache,
    docker_base_image,
    docker_daemon,
    docker_registry,
    shared_wheel_cache,
)

__all__ = [
    "_session_wheel_cache",
    "docker_base_image",
    "docker_daemon",
    "docker_registry",
    "shared_wheel_cache",
]

FLOWS = Path(__file__).parent / "flows"


@pytest.mark.docker
@pytest.mark.slow
def test_seed_example_runs_under_a_docker_agent(
    api: Client,
    monkeypatch: pytest.MonkeyPatch,
    docker_daemon: DockerDaemon,
    docker_registry: str,
    docker_base_image: str,
    shared_wheel_cache: Path,
) -> None:
    with config.override(**{"storage.docker.base_image": docker_base_image}):
        monkeypatch.setenv("HEADRACE_TEST_REGISTRY", docker_registry)
        flow = runpy.run_path(str(FLOWS / "seed_docker.py"), run_name="seed_docker")["flow"]
        flow_id = api.register(flow, project_name="docker", labels=["docker-seed"])
        image = f"{docker_registry}/custom-env-flow:0.1.0"
        client = docker_daemon.client()
        client.images.remove(image, force=True)  # the agent must pull it from the registry
        run = api.create_flow_run(flow_id)

        agent = DockerAgent(
            labels=["docker-seed"], client=api, poll_interval=0.2, base_url=docker_daemon.host
        )
        assert agent.image_for(run) == image
        agent.start()
        try:
            final = wait_for_state(api, run["id"], timeout=240)
            wait_for(lambda: run["id"] in agent.recent, 30, "the agent to see the container end")
        finally:
            agent.stop()
        assert final["state"] == "Success", final["state_message"]
        assert agent.started == [run["id"]]
        tasks = {t["task_name"]: t["state"] for t in api.get_task_runs(run["id"])}
        assert tasks == {"get_value": "Success", "output_value": "Success"}
        messages = [log["message"] for log in api.get_logs(run["id"])]
        assert "Example!" in messages
        lines = [line.strip() for line in agent.recent[run["id"]].output]
        assert "ON_START ran" in lines and "ON_EXIT ran" in lines, lines
        assert lines.index("ON_START ran") < lines.index("ON_EXIT ran")
        left = client.containers.list(
            all=True, filters={"label": f"io.headrace.flow-run-id={run['id']}"}
        )
        assert left == [], "the run's container is removed afterwards"


@pytest.mark.docker
@pytest.mark.slow
def test_a_cancelled_run_stops_gracefully_inside_its_container(
    api: Client,
    monkeypatch: pytest.MonkeyPatch,
    docker_daemon: DockerDaemon,
    docker_registry: str,
    docker_base_image: str,
    shared_wheel_cache: Path,
) -> None:
    """The container's main process (the run, PID 1 there) gets SIGTERM, ends the run
    ``Cancelled`` and runs ``on_exit`` before the container exits by itself."""
    with config.override(**{"storage.docker.base_image": docker_base_image}):
        monkeypatch.setenv("HEADRACE_TEST_REGISTRY", docker_registry)
        flow = runpy.run_path(str(FLOWS / "stoppable_docker.py"), run_name="stoppable")["flow"]
        run = api.create_flow_run(api.register(flow, project_name="docker", labels=["docker-stop"]))
        agent = DockerAgent(
            labels=["docker-stop"],
            client=api,
            poll_interval=0.2,
            base_url=docker_daemon.host,
            stop_grace_period=60,
        )
        agent.start()
        try:
            wait_for(
                lambda: (
                    run["id"] in agent.runs
                    and any("BLOCKED" in line for line in agent.runs[run["id"]].output)
                ),
                240,
                "the run to block in its container",
            )
            api.cancel_flow_run(run["id"])
            final = wait_for_state(api, run["id"], timeout=60)
            wait_for(lambda: run["id"] in agent.recent, 60, "the agent to see the container end")
        finally:
            agent.stop(stop_runs=True, grace=0)
        assert final["state"] == "Cancelled", final["state_message"]
        lines = [line.strip() for line in agent.recent[run["id"]].output]
        assert "ON_EXIT ran" in lines, lines
        assert f"flow run {run['id']}: Cancelled" in lines, lines  # exited by itself, not killed
        tasks = {t["task_name"]: t["state"] for t in api.get_task_runs(run["id"])}
        assert tasks == {"blocker": "Cancelled"}
        client = docker_daemon.client()
        left = client.containers.list(
            all=True, filters={"label": f"io.headrace.flow-run-id={run['id']}"}
        )
        assert left == []
