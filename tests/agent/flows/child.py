"""The child of the flows-of-flows tests: doubles its parameter, counting its runs."""

import os
from pathlib import Path

from headrace import Flow, Parameter, context, task


@task
def double(x: int) -> int:
    with (Path(os.environ["HEADRACE_TEST_COUNTS"]) / "child").open("a") as fh:
        fh.write(f"{context.flow_run_id}\n")
    context.logger.info("child doubling %s", x)
    return x * 2


with Flow("child") as flow:
    double(Parameter("x", default=1))
