"""``items -> ranges.map(items) -> square.map(flatten(ranges)) -> total``: a map over a
mapped upstream's flattened lists, every execution counted (see ``squares.py``). Item x
gives ``range(x % 4 + 1)``; ``total`` must be the sum of the squares of all those numbers.
``square`` is the map the tests interrupt (``$HEADRACE_TEST_SLEEP`` each)."""

import os
import time
from pathlib import Path

from headrace import Flow, context, flatten, task


def _count(name: str, value: object = "") -> None:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("a") as fh:
        fh.write(f"{context.flow_run_id} {context.get('map_index')} {os.getpid()} {value}\n")


@task
def items() -> list[int]:
    _count("items")
    return list(range(int(os.environ.get("HEADRACE_TEST_N", "50"))))


@task
def ranges(x: int) -> list[int]:
    _count("ranges")
    return list(range(x % 4 + 1))


@task
def square(x: int) -> int:
    time.sleep(float(os.environ.get("HEADRACE_TEST_SLEEP", "0.5")))
    _count("square")
    return x * x


@task
def total(values: list[int]) -> int:
    _count("total", sum(values))
    return sum(values)


with Flow("fault-nested") as flow:
    total(square.map(flatten(ranges.map(items()))))
