"""A parent flow: starts ``child``, waits for it, reads its task's result and records it.
``record`` fails until a ``release`` file exists, so the test can restart the parent and
check that the child is not started twice. A StartFlowRun(wait=True) starts a second child."""

import os
from datetime import timedelta
from pathlib import Path

from headrace import Flow, task
from headrace.tasks import StartFlowRun, create_flow_run, get_task_run_result, wait_for_flow_run


@task
def record(value: int, other_run: str) -> None:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    if not (folder / "release").exists():
        raise RuntimeError("record is not released yet")
    (folder / "out.txt").write_text(f"{value}|{other_run}")


with Flow("parent") as flow:
    child_id = create_flow_run(flow_name="child", project_name="tests", parameters={"x": 21})
    done = wait_for_flow_run(child_id, stream_logs=True, raise_final_state=True)
    value = get_task_run_result(child_id, "double", upstream_tasks=[done])
    other = StartFlowRun(
        flow_name="child",
        project_name="tests",
        parameters={"x": 5},
        wait=True,
        poll_interval=timedelta(seconds=0.2),
    )
    record(value, other())
