"""The flow the UI's end-to-end tests register and run through a real local agent.

``numbers(n)`` feeds a mapped ``inc``; ``total`` sums, then sleeps ``pause`` seconds (so a
test can cancel it while it runs) and fails while the file ``blocker`` exists (so a test can
fail a run, remove the file and restart it).
"""

import os
import time

from headrace import Flow, Parameter, context, task


@task
def numbers(n):
    return list(range(n))


@task
def inc(x):
    context.logger.info("inc got %s", x)
    return x + 1


@task
def total(xs, pause, blocker):
    context.logger.warning("total of %s values", len(xs))
    time.sleep(pause)
    if blocker and os.path.exists(blocker):
        raise RuntimeError(f"blocked by {blocker}")
    return sum(xs)


with Flow("ui-demo") as flow:
    n = Parameter("n", default=3)
    pause = Parameter("pause", default=0.0)
    blocker = Parameter("blocker", default="")
    total(inc.map(numbers(n)), pause, blocker)
