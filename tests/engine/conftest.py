"""Engine fixtures: every behaviour test runs on each executor listed in EXECUTOR_PARAMS.

The executors work (issue 3) adds "threads", "processes" and "dask" here; tests using the
``executor`` fixture must therefore use picklable, module-level tasks and observe side
effects through results or files, never through a closure mutated inside a task.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

EXECUTOR_PARAMS = ["local"]


def make_executor(kind: str) -> Any:
    """A fresh executor instance of ``kind``."""
    if kind == "local":
        from headrace.executors import LocalExecutor

        return LocalExecutor()
    raise ValueError(f"unknown executor kind {kind!r}")


@pytest.fixture(params=EXECUTOR_PARAMS)
def executor(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An executor instance to pass as ``flow.run(executor=executor)``."""
    yield make_executor(request.param)
