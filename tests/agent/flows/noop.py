"""A flow whose one task records which flow run executed it (one line per execution)."""

import os
from pathlib import Path

from headrace import Flow, context, task


@task
def record() -> None:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    with (folder / f"{context.flow_run_id}.txt").open("a") as fh:
        fh.write("ran\n")


with Flow("noop") as flow:
    record()
