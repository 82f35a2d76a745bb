"""Two tasks that count their executions in files under ``$HEADRACE_TEST_COUNTS``: ``first``
succeeds; ``second`` blocks (so the test can kill its process) until a ``release`` file
exists, then succeeds. Used by the kill/restart tests."""

import os
import time
from pathlib import Path

from headrace import Flow, context, task


def _counts() -> Path:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@task
def first() -> int:
    with (_counts() / "first").open("a") as fh:
        fh.write(f"{context.flow_run_id}\n")
    return 21


@task
def second(x: int) -> int:
    folder = _counts()
    with (folder / "second").open("a") as fh:
        fh.write(f"{context.flow_run_id}\n")
    if not (folder / "release").exists():
        (folder / "blocked").write_text(str(os.getpid()))
        time.sleep(600)
    return x * 2


with Flow("restartable") as flow:
    second(first())
