"""Renames the run it is part of, then cancels it; ``after`` waits for a file that never
comes, so only the cancel ends the run."""

import os
import time
from pathlib import Path

from headrace import Flow, task
from headrace.tasks.prefect import CancelFlowRun, RenameFlowRun


@task
def after(_: bool) -> None:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    (folder / "after-started").write_text("yes")
    deadline = time.monotonic() + 60
    while not (folder / "never").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


with Flow("self-control") as flow:
    renamed = RenameFlowRun(flow_run_name="renamed-by-itself")()
    cancelled = CancelFlowRun()(upstream_tasks=[renamed])
    after(cancelled)
