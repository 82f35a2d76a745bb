"""The reference document's example (``support/seed_example_flow.py``: the document's code
with ``prefect`` replaced by ``headrace``) runs in-process, and for real with Docker storage:
the image is built and pushed to a local registry, the health check passes inside it, and
``MyCustomEnvironment.execute(storage, flow_location)`` runs the flow in a container of
that image, ``on_start``/``on_exit`` included."""

from __future__ import annotations

import functools
import json
import runpy
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from headrace.configuration import config
from headrace.engine.state import Success
from headrace.serialization import load_environment, load_flow_document
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

SEED = Path(__file__).parent / "support" / "seed_example_flow.py"


def run_seed(tmp_path: Path, registry: str | None = None) -> dict[str, Any]:
    """Run the example's module code; with ``registry``, ``gcr.io/dev/`` becomes it."""
    source = SEED.read_text()
    if registry is not None:
        assert source.count('registry_url="gcr.io/dev/"') == 1
        source = source.replace('registry_url="gcr.io/dev/"', f'registry_url="{registry}/"')
    script = tmp_path / "seed_example.py"
    script.write_text(source)
    return runpy.run_path(str(script), run_name="seed_example")


def test_the_example_runs_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = run_seed(tmp_path)
    flow = namespace["flow"]
    assert flow.storage.name == "gcr.io/dev/custom-env-flow:0.1.0"
    state = flow.run()
    assert isinstance(state, Success)
    assert capsys.readouterr().out.splitlines().count("Example!") == 1
    by_name = {task.name: s for task, s in state.result.items()}
    assert by_name["get_value"].result == "Example!"


def test_the_example_serializes_with_its_own_environment_type(tmp_path: Path) -> None:
    flow = run_seed(tmp_path)["flow"]
    doc = json.loads(json.dumps(flow.serialize()))
    assert doc["environment"] == {
        "type": "seed_example:MyCustomEnvironment",
        "labels": [],
        "metadata": {},
    }
    assert doc["storage"]["type"] == "headrace.storage.docker:Docker"
    loaded = load_flow_document(doc)
    assert type(loaded.environment).__name__ == "MyCustomEnvironment"
    assert type(loaded.environment) is type(flow.environment)
    assert {e["downstream"] for e in doc["edges"]} == {"output_value-1"}


def test_the_example_environment_executes_from_local_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from headrace.storage import Local

    namespace = run_seed(tmp_path)
    calls: list[str] = []
    env = namespace["MyCustomEnvironment"](
        on_start=lambda: calls.append("start"), on_exit=lambda: calls.append("exit")
    )
    flow = namespace["flow"]
    storage = Local(directory=tmp_path / "flows")
    location = storage.add_flow(flow)
    storage.build()
    env.setup(storage)
    env.execute(storage, location)
    assert calls == ["start", "exit"]
    assert "Example!" in capsys.readouterr().out


@pytest.mark.docker
def test_the_example_builds_and_runs_in_docker(
    tmp_path: Path,
    docker_daemon: DockerDaemon,
    docker_registry: str,
    docker_base_image: str,
    shared_wheel_cache: Path,
) -> None:
    # The example names no base image: the configured default is the local one.
    with config.override(**{"storage.docker.base_image": docker_base_image}):
        namespace = run_seed(tmp_path, registry=docker_registry)
        flow = namespace["flow"]
        # on_start/on_exit print lines the container's output must show, around the run.
        flow.environment = namespace["MyCustomEnvironment"](
            on_start=functools.partial(print, "ON_START ran", flush=True),
            on_exit=functools.partial(print, "ON_EXIT ran", flush=True),
        )
        storage = flow.storage
        doc = flow.serialize(build=True)  # adds the flow, builds the image, checks, pushes
        assert storage.name == f"{docker_registry}/custom-env-flow:0.1.0"
        assert doc["storage"]["flows"] == {
            "Custom Environment Example": "/opt/headrace/flows/custom-environment-example.flow"
        }
        report = storage.last_health_report
        assert {(r["check"], r["ok"]) for r in report} >= {
            ("flow_loads", True),
            ("python_version", True),
        }
        assert all(r["ok"] for r in report)
        assert load_environment(doc["environment"]).serialize() == flow.environment.serialize()

        port = docker_registry.rpartition(":")[2]
        tags_url = f"http://127.0.0.1:{port}/v2/custom-env-flow/tags/list"
        with urllib.request.urlopen(tags_url, timeout=10) as resp:
            assert json.load(resp)["tags"] == ["0.1.0"]

        client = docker_daemon.client()
        client.images.remove(storage.name, force=True)  # the run must pull it from the registry
        client.images.pull(*storage.name.rsplit(":", 1))
        output = client.containers.run(
            storage.name,
            [
                "python",
                "-m",
                "headrace.environments.run",
                "--storage",
                json.dumps(doc["storage"]),
                "--flow",
                flow.name,
            ],
            network_mode="host",
            remove=True,
            stdout=True,
            stderr=True,
        ).decode()
        lines = [line.strip() for line in output.splitlines()]
        assert "ON_START ran" in lines, output
        assert "Example!" in lines, output
        assert "ON_EXIT ran" in lines, output
        assert lines.index("ON_START ran") < lines.index("Example!") < lines.index("ON_EXIT ran")
