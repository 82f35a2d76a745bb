"""The runner and the server's refusals: a final Success the server refuses because task
runs of the run have not finished ends the run Failed as an engine error (on the server and
in the state ``run()`` returns), and a runner whose run was ended meanwhile from outside
(here: failed by a user while it runs) stops, saying why in its log.

Real parts: a live server over HTTP on SQLite, the backend runner in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.agent.backend_support import register_script, wait_for

from headrace import Flow, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner, execute_flow_run
from headrace.configuration import config


@contextmanager
def _errors_logged() -> Iterator[list[str]]:
    """The messages of the error records the ``headrace`` loggers emit meanwhile."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.ERROR)
    logging.getLogger("headrace").addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger("headrace").removeHandler(handler)


def test_a_refused_success_ends_the_run_failed_as_an_engine_error(api: Client) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("partial") as flow:
        one()

    run = api.create_flow_run(api.register(flow, project_name="backend", build=False))
    # the server holds a task run this attempt knows nothing about and never finishes:
    # the partial picture a runner must not turn into a Success
    stray = {"task_slug": flow.slugs[next(iter(flow.tasks))], "map_index": 7, "version": 0}
    api.report(run["id"], {"task_runs": [{**stray, "state": {"name": "Running"}}]})
    with _errors_logged() as errors:
        state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_failed()
    assert state.message.startswith("engine error: the server refused Success: ")
    assert "1 of its task runs have not finished: one-1[7] (Running)" in state.message
    stored = api.get_flow_run(run["id"])
    assert stored["state"] == "Failed" and stored["state_message"] == state.message
    assert [s["name"] for s in api.get_flow_run_states(run["id"])][-2:] == ["Running", "Failed"]
    assert any("the server refused its final state" in line for line in errors)


@pytest.mark.parametrize("how", ["failed", "retried", "retried and running again"])
def test_a_runner_whose_run_was_ended_or_retried_meanwhile_stops_and_says_why(
    api: Client, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Failed by a user; or taken for lost (here: reported lost by hand) and rescheduled,
    maybe already running again in a new attempt: this runner's work no longer counts."""
    with config.override(**{"cloud.heartbeat_interval": 0.2}):
        release = threading.Event()
        stopped = threading.Event()

        @task
        def wait() -> None:
            release.wait(60)

        with Flow("overtaken") as flow:
            wait()

        flow_id = api.register(flow, project_name="backend", build=False)
        run = api.create_flow_run(flow_id, max_retries=1)
        runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api, on_cancel=stopped.set)
        thread = threading.Thread(target=runner.run)
        with _errors_logged() as errors:
            thread.start()
            try:
                wait_for(lambda: api.get_flow_run(run["id"])["state"] == "Running", 30, "Running")
                if how == "failed":
                    api.set_flow_run_state(run["id"], "Failed", message="failed by hand")
                else:
                    api.flow_run_lost(run["id"], "taken for lost")
                    if how == "retried and running again":
                        api.set_flow_run_state(run["id"], "Running")  # another attempt's runner
                assert stopped.wait(30), "the runner was told to stop"
            finally:
                release.set()
                thread.join(30)
        assert runner.reporter is not None
        expected = {
            "failed": "Failed",
            "retried": "Scheduled",
            "retried and running again": "Running",
        }
        # a heartbeat may fall between the retry and the next attempt's Running: either tells
        seen = (
            {expected[how], "Scheduled"} if how == "retried and running again" else {expected[how]}
        )
        assert runner.reporter.ended_elsewhere in seen
        words = "ended (Failed)" if how == "failed" else "retried ("
        assert any(f"the server {words}" in line for line in errors), errors
        # its own end (here: the flow finishing once released) is not recorded over the run's
        assert api.get_flow_run(run["id"])["state"] == expected[how]
        assert runner.reporter.dropped_batches >= 1


RESTARTING_FLOW = '''
import os

from headrace import Flow, task
from headrace.client import Client
from headrace.environments.execution import LocalEnvironment


class RestartedMeanwhile(LocalEnvironment):
    """Runs the flow, then a user restarts the run before this process is done."""

    def execute(self, storage, flow_location, **kwargs):
        state = super().execute(storage, flow_location, **kwargs)
        with Client(os.environ["RESTART_API"]) as client:
            client.restart_flow_run(os.environ["HEADRACE__CONTEXT__FLOW_RUN_ID"])
        return state


@task
def boom():
    raise ValueError("boom")


with Flow("restarted-meanwhile", environment=RestartedMeanwhile()) as flow:
    boom()
'''


def test_a_run_restarted_right_after_its_process_finished_it_is_left_alone(
    api: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process that failed the run must not record anything over the restart a user
    made meanwhile (it used to fail the restarted run: "finished without a final state")."""
    script = tmp_path / "restarted.py"
    script.write_text(RESTARTING_FLOW)
    monkeypatch.setenv("RESTART_API", api.api_url)
    run = api.create_flow_run(register_script(api, script, project="backend"))
    api.claim_flow_runs(api.register_agent("by-hand")["id"])
    assert execute_flow_run(run["id"], client=api, exit_on_cancel=False) == "Scheduled"
    stored = api.get_flow_run(run["id"])
    assert (stored["state"], stored["state_message"]) == ("Scheduled", "restarted")
    names = [s["name"] for s in api.get_flow_run_states(run["id"])]
    assert names[-3:] == ["Running", "Failed", "Scheduled"]
