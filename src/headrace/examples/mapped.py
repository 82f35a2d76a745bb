"""A mapped flow: one child task run per item, then a reduce (watch its progress bar with
``headrace run --name mapped-squares --watch``)."""

from __future__ import annotations

from headrace import Flow, Parameter, task


@task
def items(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task(log_stdout=True)
def total(values: list[int]) -> int:
    result = sum(values)
    print(f"sum of {len(values)} squares: {result}")
    return result


with Flow("mapped-squares") as flow:
    n = Parameter("n", default=100)
    total(square.map(items(n)))
