"""The fault suite's flow: ``items -> square.map(items) -> total``.

Every task appends what it does to ``$HEADRACE_FAULT_DIR/events`` (one line: what, the flow
run, the process, the child) so the suite can tell which child ran how often, in which
process, and what ``total`` computed. ``HEADRACE_FAULT_SLEEP`` sets how long a child
works, ``HEADRACE_FAULT_EDGE_SLEEP`` how long ``items`` and ``total`` do (moments to kill
before and after the map). ``HEADRACE_FAULT_EXECUTOR=dask`` runs it on a ``DaskExecutor``
with a temporary local cluster of two single-threaded worker processes (loopback only).
"""

import os
import time
from pathlib import Path

from headrace import Flow, Parameter, task


def _note(kind: str, *parts: object) -> None:
    run = os.environ.get("HEADRACE__CONTEXT__FLOW_RUN_ID", "-")
    line = " ".join([kind, run, str(os.getpid()), *map(str, parts)])
    with open(Path(os.environ["HEADRACE_FAULT_DIR"]) / "events", "a") as out:
        out.write(line + "\n")
        out.flush()


@task
def items(n: int) -> list[int]:
    _note("items")
    time.sleep(float(os.environ.get("HEADRACE_FAULT_EDGE_SLEEP", "0.5")))
    return list(range(n))


@task
def square(x: int) -> int:
    _note("start", x)
    time.sleep(float(os.environ.get("HEADRACE_FAULT_SLEEP", "0.2")))
    _note("done", x)
    return x * x


@task
def total(values: list[int]) -> int:
    _note("summing")
    time.sleep(float(os.environ.get("HEADRACE_FAULT_EDGE_SLEEP", "0.5")))
    result = sum(values)
    _note("total", result, len(values))
    return result


with Flow("squares") as flow:
    n = Parameter("n", default=12)
    total(square.map(items(n)))

if os.environ.get("HEADRACE_FAULT_EXECUTOR") == "dask":
    from headrace.executors import DaskExecutor

    flow.executor = DaskExecutor(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": ":0",
        },
        chunk_size=1,
    )
