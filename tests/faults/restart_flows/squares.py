"""``items -> square.map(items) -> total``: the issue's map, with every execution counted.

Each task appends one line per execution to ``$HEADRACE_TEST_COUNTS/<task>`` (``<run id>
<map index> <pid> <value>``; ``total`` writes the sum it computed as its value), so a test
can say which child ran how many times, in which process, and what the reduce added up.
``$HEADRACE_TEST_SLEEP`` (seconds, default 0.5) is how long each child works, so a test can
kill the run's process in the middle of the map; ``$HEADRACE_TEST_N`` (default 50) is how
many items there are. ``total`` must be the sum of the squares of 0 .. N-1.
``$HEADRACE_TEST_ITEMS_SLEEP`` and ``$HEADRACE_TEST_TOTAL_SLEEP`` hold ``items`` (after it
counted) and ``total`` (before it counts), for a kill before or after the map.
``$HEADRACE_TEST_EXECUTOR=processes`` runs the flow on ``LocalDaskExecutor("processes")``.
"""

import os
import time
from pathlib import Path

from headrace import Flow, context, task
from headrace.executors import LocalDaskExecutor


def _count(name: str, value: object = "") -> None:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("a") as fh:
        fh.write(f"{context.flow_run_id} {context.get('map_index')} {os.getpid()} {value}\n")


@task
def items() -> list[int]:
    _count("items")  # first: a test may kill the process while items sleeps
    time.sleep(float(os.environ.get("HEADRACE_TEST_ITEMS_SLEEP", "0")))
    return list(range(int(os.environ.get("HEADRACE_TEST_N", "50"))))


@task
def square(x: int) -> int:
    time.sleep(float(os.environ.get("HEADRACE_TEST_SLEEP", "0.5")))
    _count("square")
    return x * x


@task
def total(values: list[int]) -> int:
    time.sleep(float(os.environ.get("HEADRACE_TEST_TOTAL_SLEEP", "0")))
    _count("total", sum(values))
    return sum(values)


with Flow("fault-squares") as flow:
    total(square.map(items()))

if os.environ.get("HEADRACE_TEST_EXECUTOR") == "processes":
    flow.executor = LocalDaskExecutor("processes", num_workers=2)
