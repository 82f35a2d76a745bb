"""A small extract-transform-load flow with a parameter, a map and a reduce."""

from __future__ import annotations

from headrace import Flow, Parameter, task


@task
def extract(n: int) -> list[int]:
    return list(range(1, n + 1))


@task(max_retries=1)
def transform(x: int) -> int:
    return x * x


@task(log_stdout=True)
def load(values: list[int]) -> int:
    total = sum(values)
    print(f"loaded {len(values)} values, total {total}")
    return total


with Flow("etl") as flow:
    n = Parameter("n", default=10)
    load(transform.map(extract(n)))
