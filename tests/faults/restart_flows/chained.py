"""``items -> square.map(items) -> plus.map(squares) -> total``: chained maps, every
execution counted (see ``squares.py``); ``total`` must be the sum of ``x * x + 1`` for x in
0 .. N-1. ``plus`` is the map the tests interrupt (``$HEADRACE_TEST_SLEEP`` each)."""

import os
import time
from pathlib import Path

from headrace import Flow, context, task


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
def square(x: int) -> int:
    _count("square")
    return x * x


@task
def plus(x: int) -> int:
    time.sleep(float(os.environ.get("HEADRACE_TEST_SLEEP", "0.5")))
    _count("plus")
    return x + 1


@task
def total(values: list[int]) -> int:
    _count("total", sum(values))
    return sum(values)


with Flow("fault-chained") as flow:
    total(plus.map(square.map(items())))
