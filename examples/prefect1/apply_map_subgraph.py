"""Mapping a whole subgraph, with a branch inside, per item (Prefect 1's ``apply_map``)."""

from headrace import Flow, apply_map, case, task
from headrace.tasks.control_flow import merge


@task
def inc(x):
    return x + 1


@task
def is_even(x):
    return x % 2 == 0


@task
def halve(x):
    return x // 2


@task
def triple_plus_one(x):
    return 3 * x + 1


def collatz_step(x):
    """One step of the Collatz sequence after adding one, as a little subgraph."""
    y = inc(x)
    with case(is_even(y), True):
        even = halve(y)
    with case(is_even(y), False):
        odd = triple_plus_one(y)
    return merge(even, odd)


@task
def show(values):
    print("results:", values)


with Flow("apply-map") as flow:
    show(apply_map(collatz_step, [1, 2, 3, 4, 5]))


if __name__ == "__main__":
    state = flow.run()
    print(type(state).__name__)
