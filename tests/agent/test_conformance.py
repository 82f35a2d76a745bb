"""What every agent type does the same way, run against a live server for each type (local,
docker, kubernetes) as far as this machine allows: it registers with its type and labels,
claims only runs whose labels it all has, gives each run's process the environment
headrace needs plus the run config's ``env``, and a run it cannot start becomes ``Failed``
with a message naming the run and the reason (LocalAgent: a missing working directory;
DockerAgent: no image to run; KubernetesAgent: no cluster configuration - there is no
cluster here). Successful runs per type are in ``test_e2e_backend.py`` (local) and
``test_docker_agent.py`` (docker)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import register_script

from headrace.agent import Agent
from headrace.cli.agent import make_agent
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.run_configs import DockerRun, KubernetesRun, LocalRun
from headrace.utilities.imports import import_object

FLOWS = Path(__file__).parent / "flows"
KINDS = ["local", "docker", "kubernetes"]


def unstartable(kind: str, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """A run config this kind of agent cannot start, and the reason it must give."""
    if kind == "local":
        return LocalRun(working_dir=str(tmp_path / "missing")).serialize(), "missing"
    if kind == "docker":
        return DockerRun(env={"X": "1"}).serialize(), "no image"
    return KubernetesRun(image="repo/flow:1").serialize(), "no cluster configuration"


@pytest.fixture
def flow_id(api: Client) -> str:
    return register_script(api, FLOWS / "noop.py")


def agent_of(kind: str, api: Client, labels: list[str]) -> Agent:
    agent: Agent = make_agent(kind, labels=labels, client=api, poll_interval=0.1)
    return agent


@pytest.mark.parametrize("kind", KINDS)
def test_claims_only_runs_whose_labels_it_has(kind: str, api: Client, flow_id: str) -> None:
    agent = agent_of(kind, api, ["blue"])
    agent.register()
    # a local agent also has its host's name (the label Local storage puts on its flows)
    expected = sorted(["blue", socket.gethostname()]) if kind == "local" else ["blue"]
    assert {a["id"]: (a["type"], a["labels"]) for a in api.get_agents()}[agent.agent_id] == (
        kind,
        expected,
    )
    other = api.create_flow_run(flow_id, labels=["blue", "green"])
    assert agent.step() == 0
    assert api.get_flow_run(other["id"])["state"] == "Scheduled"
    assert agent.started == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_it_cannot_start_fails_naming_the_reason(
    kind: str,
    api: Client,
    flow_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kube-config"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    run_config, reason = unstartable(kind, tmp_path)
    run = api.create_flow_run(flow_id, labels=["blue"], run_config=run_config)
    agent = agent_of(kind, api, ["blue"])
    assert agent.step() == 1
    failed = api.get_flow_run(run["id"])
    assert failed["state"] == "Failed"
    assert run["id"] in failed["state_message"] and reason in failed["state_message"]
    assert agent.runs == {}


@pytest.mark.parametrize("kind", KINDS)
def test_run_environment(kind: str, api: Client, flow_id: str) -> None:
    run = api.create_flow_run(flow_id, run_config=LocalRun(env={"MINE": "1"}).serialize())
    env = agent_of(kind, api, []).run_environment(run)
    assert env["MINE"] == "1"
    assert env["HEADRACE__API__URL"] == api.api_url
    assert env["HEADRACE__CONTEXT__FLOW_RUN_ID"] == run["id"]
    runner = import_object(env["HEADRACE__ENGINE__FLOW_RUNNER__DEFAULT_CLASS"])
    assert issubclass(runner, BackendFlowRunner)  # the one that also stops gracefully
    assert float(env["HEADRACE__AGENT__STOP_GRACE_PERIOD"]) == 30.0
