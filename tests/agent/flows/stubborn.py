"""A flow run that will not stop when asked: its task ignores SIGTERM (as code stuck where
Python cannot interrupt it would), starts a grandchild ``sleep`` in its process group, and
blocks. Pids go to ``$HEADRACE_TEST_MARKERS``: ``blocked`` (the run's process) and
``child``."""

# ruff: noqa
import os
import signal
import subprocess
import time
from pathlib import Path

from headrace import Flow, task


@task
def stubborn() -> None:
    folder = Path(os.environ["HEADRACE_TEST_MARKERS"])
    folder.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "600"])
    (folder / "child").write_text(str(child.pid))
    (folder / "blocked").write_text(str(os.getpid()))
    time.sleep(600)


with Flow("stubborn") as flow:
    stubborn()
