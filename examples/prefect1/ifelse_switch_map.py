"""``ifelse`` and ``switch`` per mapped item, inside a ``tags`` block (Prefect 1)."""

from headrace import Flow, tags, task
from headrace.tasks.control_flow import ifelse, merge, switch


@task
def numbers():
    return [1, 2, 3, 4, 5, 6]


@task
def is_small(x):
    return x < 4


@task
def small(x):
    return f"{x} is small"


@task
def large(x):
    return f"{x} is large"


@task
def kind(x):
    return "even" if x % 2 == 0 else "odd"


@task
def even_word(x):
    return "even"


@task
def odd_word(x):
    return "odd"


with Flow("ifelse-switch") as flow:
    xs = numbers()
    with tags("branching"):
        lo = small.map(xs)
        hi = large.map(xs)
        ifelse(is_small.map(xs), lo, hi, mapped=True)
        sizes = merge(lo, hi, mapped=True)
        e, o = even_word.map(xs), odd_word.map(xs)
        switch(kind.map(xs), {"even": e, "odd": o}, mapped=True)
        parities = merge(e, o, mapped=True)


if __name__ == "__main__":
    state = flow.run()
    for size, parity in zip(state.result[sizes].result, state.result[parities].result, strict=True):
        print(f"{size}, {parity}")
    print("tagged:", len(flow.get_tasks(tags=["branching"])))
    print(type(state).__name__)
