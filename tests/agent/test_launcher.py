"""The warm run launcher: runs forked from the LocalAgent's pre-imported template process.

Each forked run must be what a cold start is: its own process, process group and session
(the template its parent, never the agent), the run's environment and working directory,
fresh random numbers, ``python -m headrace execute flow-run --id RUN`` as its command line,
its output in the agent's log and in the message of a run whose process dies (secrets
masked), its exit code or killing signal known to the agent. When the template dies the
agent starts runs cold and starts a new template; ``warm_start=False`` turns it off.

Real parts: a live server on SQLite (127.0.0.1), LocalAgents, real forked processes, real
signals.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import register_script, wait_for, wait_for_state

from headrace.agent import LocalAgent
from headrace.agent.launcher import EXIT_UNKNOWN, WarmLauncher, warm_compatible
from headrace.agent.local import ProcessHandle
from headrace.client import Client
from headrace.configuration import config

FLOWS = Path(__file__).parent / "flows"
SECRET = "tok-9f8e7d6c5b4a-launcher"


def _facts(folder: Path, run_id: str) -> dict[str, Any]:
    path = folder / f"{run_id}.json"
    return dict(wait_for(lambda: path.exists() and json.loads(path.read_text()), 90, "facts"))


@pytest.fixture
def facts_env(agent_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "facts"
    folder.mkdir()
    return {
        **agent_env,
        "HEADRACE_TEST_FACTS": str(folder),
        "HEADRACE_TEST_MARKER": "from-the-agent",
        "HEADRACE_TEST_TOKEN": SECRET,
    }


def _warm_agent(api: Client, env: dict[str, str], **kwargs: Any) -> LocalAgent:
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env, **kwargs)
    agent.register()
    assert agent.launcher is not None
    assert agent.launcher.wait_ready(60), "the template did not come up"
    return agent


def test_warm_start_is_the_default_and_can_be_turned_off(api: Client) -> None:
    assert config.agent.warm_start is True
    assert LocalAgent(labels=[], client=api).launcher is not None
    assert LocalAgent(labels=[], client=api, warm_start=False).launcher is None


def test_forked_runs_are_separate_processes_with_the_runs_environment(
    api: Client, facts_env: dict[str, str], tmp_path: Path
) -> None:
    flow_id = register_script(api, FLOWS / "facts.py")
    agent = _warm_agent(api, facts_env)
    agent.start()
    try:
        runs = [api.create_flow_run(flow_id)["id"] for _ in range(2)]
        ended = [wait_for_state(api, r) for r in runs]
        assert [r["state"] for r in ended] == ["Success", "Success"]
        facts = [_facts(Path(facts_env["HEADRACE_TEST_FACTS"]), r) for r in runs]
        template = agent.launcher.template_pid if agent.launcher else None
    finally:
        agent.stop(stop_runs=True, grace=5)
    assert agent.warm_starts == 2 and agent.cold_starts == 0
    for run_id, fact in zip(runs, facts, strict=True):
        assert fact["ppid"] == template and fact["ppid"] != os.getpid()
        assert fact["pgid"] == fact["pid"] == fact["sid"]  # its own group and session
        assert fact["flow_run_id"] == fact["context_flow_run_id"] == run_id
        assert fact["marker"] == "from-the-agent"
        assert fact["cmdline"][-5:] == ["headrace", "execute", "flow-run", "--id", run_id]
        assert fact["argv"] == ["execute", "flow-run", "--id", run_id]
    assert facts[0]["pid"] != facts[1]["pid"]
    assert facts[0]["random"] != facts[1]["random"]
    handles = [agent.recent[r] for r in runs]
    assert all(isinstance(h, ProcessHandle) and h.warm for h in handles)
    output = "\n".join(handles[0].output)
    assert "facts written; the secret is" in output
    assert SECRET not in output


def test_a_killed_forked_run_is_reported_with_its_signal_and_last_output(
    api: Client, facts_env: dict[str, str], tmp_path: Path
) -> None:
    block = tmp_path / "never"
    env = {**facts_env, "HEADRACE_TEST_FACTS_BLOCK": str(block)}
    flow_id = register_script(api, FLOWS / "facts.py")
    agent = _warm_agent(api, env)
    agent.start()
    try:
        run_id = api.create_flow_run(flow_id)["id"]
        fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), run_id)
        wait_for(lambda: any("facts written" in line for line in agent.runs[run_id].output), 30)
        os.kill(fact["pid"], signal.SIGKILL)
        run = wait_for_state(api, run_id)
    finally:
        agent.stop(stop_runs=True, grace=5)
    assert run["state"] == "Failed"
    message = run["state_message"]
    assert "the flow run's process was killed by SIGKILL (exit code -9)" in message
    assert "facts written; the secret is" in message
    assert SECRET not in message


def test_cancelling_a_forked_run_stops_its_process_group(
    api: Client, facts_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**facts_env, "HEADRACE_TEST_FACTS_BLOCK": str(tmp_path / "never")}
    flow_id = register_script(api, FLOWS / "facts.py")
    agent = _warm_agent(api, env, stop_grace_period=2.0)
    agent.start()
    try:
        run_id = api.create_flow_run(flow_id)["id"]
        fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), run_id)
        api.cancel_flow_run(run_id)
        run = wait_for_state(api, run_id)
        wait_for(lambda: run_id not in agent.runs, 30, "the agent to forget the run")
    finally:
        agent.stop(stop_runs=True, grace=5)
    assert run["state"] == "Cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(fact["pgid"], 0)


def test_a_dead_template_means_cold_starts_then_a_new_template(
    api: Client, facts_env: dict[str, str], tmp_path: Path
) -> None:
    block = tmp_path / "release"
    env = {**facts_env, "HEADRACE_TEST_FACTS_BLOCK": str(block)}
    flow_id = register_script(api, FLOWS / "facts.py")
    agent = _warm_agent(api, env)
    launcher = agent.launcher
    assert launcher is not None
    agent.start()
    try:
        first = api.create_flow_run(flow_id)["id"]
        first_fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), first)
        os.kill(first_fact["ppid"], signal.SIGKILL)  # the template, with a run in flight
        wait_for(lambda: not launcher.ready(), 30, "the agent to see its template die")
        second = api.create_flow_run(flow_id)["id"]
        second_fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), second)
        block.write_text("go")
        ended = [wait_for_state(api, r) for r in (first, second)]
        wait_for(launcher.ready, 60, "a new template")
        third = api.create_flow_run(flow_id)["id"]
        third_fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), third)
        wait_for_state(api, third)
        new_template = launcher.template_pid
    finally:
        agent.stop(stop_runs=True, grace=5)
    assert [r["state"] for r in ended] == ["Success", "Success"]  # the orphan went on
    # started cold meanwhile, or by the new template if it was up already; never the dead one
    assert second_fact["ppid"] in (os.getpid(), new_template)
    assert second_fact["ppid"] != first_fact["ppid"]
    assert third_fact["ppid"] == new_template != first_fact["ppid"]
    assert launcher.templates_started == 2


def test_an_orphaned_runs_end_is_seen_without_its_exit_code(
    api: Client, facts_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**facts_env, "HEADRACE_TEST_FACTS_BLOCK": str(tmp_path / "never")}
    flow_id = register_script(api, FLOWS / "facts.py")
    agent = _warm_agent(api, env)
    agent.start()
    try:
        run_id = api.create_flow_run(flow_id)["id"]
        fact = _facts(Path(facts_env["HEADRACE_TEST_FACTS"]), run_id)
        os.kill(fact["ppid"], signal.SIGKILL)
        assert agent.launcher is not None
        wait_for(lambda: not agent.launcher.ready(), 30, "the agent to see its template die")  # type: ignore[union-attr]
        os.kill(fact["pid"], signal.SIGKILL)
        run = wait_for_state(api, run_id)
    finally:
        agent.stop(stop_runs=True, grace=5)
    assert run["state"] == "Failed"
    assert (
        "exit code is unknown: the warm launcher process that started it died"
        in (run["state_message"])
    )
    assert EXIT_UNKNOWN == 255


def test_an_environment_a_fork_cannot_apply_starts_cold() -> None:
    template = {"PYTHONPATH": "/a", "HOME": "/root", "LANG": "C.UTF-8"}
    assert warm_compatible({**template, "X": "1"}, template) == []
    assert warm_compatible({**template, "PYTHONPATH": "/b"}, template) == ["PYTHONPATH"]
    assert warm_compatible({**template, "LD_PRELOAD": "x.so"}, template) == ["LD_PRELOAD"]
    assert warm_compatible({"HOME": "/root"}, template) == ["LANG", "PYTHONPATH"]


def test_a_template_is_closed_with_its_agent(api: Client, facts_env: dict[str, str]) -> None:
    agent = _warm_agent(api, facts_env)
    launcher = agent.launcher
    assert isinstance(launcher, WarmLauncher)
    pid = launcher.template_pid
    assert pid is not None
    agent.stop(stop_runs=True)
    assert not launcher.ready()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
