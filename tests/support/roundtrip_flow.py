"""A flow script with parameters and mapped tasks, for storage round trips.

Tests load it with ``runpy.run_path`` (so its tasks pickle by value and load anywhere
headrace is installed), store it as a script (``Local(stored_as_script=True)``, ``Git``)
or copy it into an importable module (``Module``). With ``n=4, offset=1`` the flow's
``total`` is 0+1 + 1+1 + 4+1 + 9+1 = 18.
"""

from headrace import Flow, Parameter, task, unmapped


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int, offset: int) -> int:
    return x * x + offset


@task
def total(values: list[int]) -> int:
    return sum(values)


with Flow("roundtrip") as flow:
    n = Parameter("n", default=4)
    offset = Parameter("offset", default=1)
    squares = square.map(numbers(n), offset=unmapped(offset))
    result = total(squares)
