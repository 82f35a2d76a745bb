"""The issue's example: a billing report whose parsing task raises on a bad amount, with a
mapped step where one child of three fails and a reduce that still succeeds."""

from headrace import Flow, Parameter, task
from headrace.triggers import all_finished


def _amount(row: int, text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"row {row}: amount {text!r} is not an integer")
    return int(text)


@task
def load_rows() -> list[str]:
    return ["10", "oops", "32"]


@task
def parse_amounts(rows: list[str]) -> list[int]:
    return [_amount(i + 1, text) for i, text in enumerate(rows)]


@task
def check(text: str) -> int:
    return _amount(0, text)


@task(trigger=all_finished)
def count(values: list[object]) -> int:
    return len(values)


@task
def total(amounts: list[int], copies: int) -> int:
    return sum(amounts) * copies


with Flow("billing-report") as flow:
    rows = load_rows()
    checked = check.map(rows)
    count(checked)
    total(parse_amounts(rows), Parameter("copies", default=1))
