"""Agents on several machines: a flow in ``Local`` storage is labelled with the host its
file is on, a LocalAgent with its own host's name, so an agent on another host never
claims its runs; an agent refuses a storage document naming a place it may not load from
(another host's Local storage, a path outside its storage roots such as /etc/passwd) and
fails the run saying why.

Real parts: a live server on SQLite, LocalAgents starting real ``headrace execute``
subprocesses. Two hosts are two agents given different host names (``hostname=``) on this
machine: the labels and checks are what differ between hosts, and those are real.
"""

from __future__ import annotations

import runpy
import socket
from pathlib import Path

from tests.agent.backend_support import wait_for, wait_for_state
from tests.server.conftest import flow_document

from headrace.agent import LocalAgent
from headrace.client import Client
from headrace.core.flow import Flow
from headrace.storage import Local

FLOWS = Path(__file__).parent / "flows"


def _register_noop(api: Client, **storage: object) -> str:
    namespace = runpy.run_path(str(FLOWS / "noop.py"), run_name="__headrace_flow__")
    (flow,) = [v for v in namespace.values() if isinstance(v, Flow)]
    flow.storage = Local(stored_as_script=True, path=str(FLOWS / "noop.py"), **storage)  # type: ignore[arg-type]
    return api.register(flow, project_name="hosts", labels=flow.storage.labels)


def test_a_local_storage_flow_is_never_claimed_by_an_agent_on_another_host(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    counts.mkdir()
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(counts)}
    flow_id = _register_noop(api, host="host-a")
    runs = [api.create_flow_run(flow_id) for _ in range(10)]
    assert all(run["labels"] == ["host-a"] for run in runs)
    on_b = LocalAgent(labels=[], client=api, hostname="host-b", env=env, name="agent-b")
    on_a = LocalAgent(labels=[], client=api, hostname="host-a", env=env, name="agent-a")
    assert on_b.labels == ["host-b"] and on_a.labels == ["host-a"]
    for _ in range(5):  # host B polls first, and keeps polling while A works
        assert on_b.step() == 0
    on_a.start()
    on_b_started: list[int] = []
    try:
        for run in runs:
            on_b_started.append(on_b.step())
            wait_for_state(api, run["id"], timeout=120)
    finally:
        on_a.stop(stop_runs=True)
    assert sum(on_b_started) == 0 and on_b.started == []
    finished = [api.get_flow_run(run["id"]) for run in runs]
    assert {run["state"] for run in finished} == {"Success"}
    assert {run["agent_id"] for run in finished} == {on_a.agent_id}
    assert len(list(counts.iterdir())) == 10


def test_without_the_host_label_the_agent_on_another_host_refuses_the_run_saying_why(
    api: Client, agent_env: dict[str, str]
) -> None:
    flow_id = _register_noop(api, host="host-a", add_default_labels=False)
    run = api.create_flow_run(flow_id)
    agent = LocalAgent(labels=[], client=api, hostname="host-b", env=agent_env)
    agent.step()
    failed = wait_for_state(api, run["id"], {"Failed"}, timeout=30)
    message = failed["state_message"]
    assert "Local storage on host 'host-a'" in message and "'host-b'" in message
    assert "FileSystem, Git or Docker storage" in message
    assert agent.runs == {}


def test_a_storage_document_naming_etc_passwd_is_refused(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    project = api.create_project("evil")

    def run_of(name: str, location: str) -> str:
        document = flow_document(name=name)
        document["storage"] = {
            "type": "headrace.storage:Local",  # another spelling of the same type
            "flows": {name: location},
            "host": socket.gethostname(),
        }
        flow = api.register_document(document, project_id=project["id"])
        return str(api.create_flow_run(flow["id"])["id"])

    # a real flow file, but outside the one directory the second agent allows
    outside = Path(Local(directory=tmp_path / "outside").add_flow(Flow("outside")))
    runs = {
        "evil": run_of("evil", "/etc/passwd"),
        "sneaky": run_of("sneaky", str(FLOWS / ".." / ".." / ".." / "x.flow")),
    }
    agent = LocalAgent(labels=[], client=api, env=agent_env)
    wait_for(lambda: agent.step() == 0 and not agent.runs, 10, "the agent to poll")
    said = {k: wait_for_state(api, r, {"Failed"}, 30)["state_message"] for k, r in runs.items()}
    assert "storage.flows.evil '/etc/passwd' is not a headrace flow file" in said["evil"]
    assert "storage.flows.sneaky" in said["sneaky"] and "without '..'" in said["sneaky"]
    assert agent.started == []

    fenced = run_of("outside", str(outside))
    rooted = LocalAgent(labels=[], client=api, env=agent_env, storage_roots=[str(tmp_path / "in")])
    rooted.step()
    message = wait_for_state(api, fenced, {"Failed"}, 30)["state_message"]
    assert "is outside the directories this agent loads flows from" in message
    assert "agent.storage_roots" in message and rooted.started == []
