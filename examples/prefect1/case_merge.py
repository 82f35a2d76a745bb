"""Conditional branches joined again (Prefect 1's "Using conditional logic in a Flow")."""

import random

from headrace import Flow, Parameter, case, task
from headrace.tasks.control_flow import merge


@task
def check_condition(force):
    if force is not None:
        return force
    return random.random() < 0.5


@task
def action_if_true():
    return "I am true!"


@task
def action_if_false():
    return "I am false!"


@task
def another_action(val):
    print(f"another_action got: {val}")
    return val


with Flow("conditional-branches") as flow:
    force = Parameter("force", default=None)
    cond = check_condition(force)

    with case(cond, True):
        val1 = action_if_true()

    with case(cond, False):
        val2 = action_if_false()

    val = merge(val1, val2)
    another_action(val)


if __name__ == "__main__":
    for choice in (True, False):
        state = flow.run(force=choice)
        print(f"force={choice}: {type(state).__name__}")
        print("  true branch:", type(state.result[val1]).__name__)
        print("  false branch:", type(state.result[val2]).__name__)
