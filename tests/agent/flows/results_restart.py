"""A flow for restart-from-failure with each kind of result. ``$HEADRACE_TEST_RESULT``
picks the result of ``first`` (file, s3, prefect); ``second`` fails until a ``release``
file exists; ``third`` uses a server secret (kept as a SecretResult: its name only).
Every task counts its executions under ``$HEADRACE_TEST_COUNTS``."""

import os
from pathlib import Path

from headrace import Flow, task
from headrace.engine.results import FSSpecResult, PrefectResult, S3Result
from headrace.tasks import PrefectSecret


def _count(name: str) -> Path:
    folder = Path(os.environ["HEADRACE_TEST_COUNTS"])
    with (folder / name).open("a") as fh:
        fh.write("ran\n")
    return folder


def _result():
    kind = os.environ["HEADRACE_TEST_RESULT"]
    where = "{flow_name}/{task_slug}-{flow_run_id}.json"
    if kind == "file":
        return FSSpecResult(f"file://{os.environ['HEADRACE_TEST_COUNTS']}/results", location=where)
    if kind == "s3":
        return S3Result(
            "restart-results",
            location=where,
            boto3_kwargs={"endpoint_url": os.environ["HEADRACE_TEST_S3"]},
        )
    return PrefectResult()


@task(result=_result())
def first() -> dict:
    _count("first")
    return {"n": 21}


@task
def second(x: dict) -> int:
    folder = _count("second")
    if not (folder / "release").exists():
        raise RuntimeError("second is not released yet")
    return x["n"] * 2


@task
def third(token: str, y: int) -> None:
    folder = _count("third")
    (folder / "out.txt").write_text(f"{token}:{y}")


with Flow("results-restart") as flow:
    third(PrefectSecret("RESTART_TOKEN"), second(first()))
