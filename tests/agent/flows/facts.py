"""A flow whose task writes what its process is (pid, parent, group, session, environment,
working directory, a random draw, its command line), then prints a line and, when
``HEADRACE_TEST_FACTS_BLOCK`` names a file, waits until that file exists (so a test can
signal a running process)."""

import json
import os
import random
import sys
import time
from pathlib import Path

from headrace import Flow, context, task


@task
def facts() -> None:
    folder = Path(os.environ["HEADRACE_TEST_FACTS"])
    with open(f"/proc/{os.getpid()}/cmdline", "rb") as fh:
        cmdline = [part.decode() for part in fh.read().split(b"\0") if part]
    record = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "flow_run_id": os.environ.get("HEADRACE__CONTEXT__FLOW_RUN_ID"),
        "context_flow_run_id": context.get("flow_run_id"),
        "marker": os.environ.get("HEADRACE_TEST_MARKER"),
        "cwd": os.getcwd(),
        "random": random.random(),
        "cmdline": cmdline,
        "argv": sys.argv[1:],
    }
    (folder / f"{context.flow_run_id}.json").write_text(json.dumps(record))
    print(f"facts written; the secret is {os.environ.get('HEADRACE_TEST_TOKEN', '')}", flush=True)
    block = os.environ.get("HEADRACE_TEST_FACTS_BLOCK")
    if block:
        while not Path(block).exists():
            time.sleep(0.05)


with Flow("facts") as flow:
    facts()
