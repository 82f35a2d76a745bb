"""Results kept at targets named after the run's date (Prefect 1's output caching with
``target=``): the second run of the day finds them and does not run the tasks again."""

import sys

from headrace import Flow, task
from headrace.engine.results import LocalResult

RESULTS = LocalResult(dir=sys.argv[1] if len(sys.argv) > 1 else "./results")


@task(target="{date:%Y}/{today}/{task_name}.pkl", checkpoint=True, result=RESULTS)
def extract():
    print("extracting")
    return [3, 1, 2]


@task(target="{today_nodash}-{task_name}.pkl", checkpoint=True, result=RESULTS)
def transform(rows):
    print("transforming")
    return sorted(rows)


with Flow("targets") as flow:
    rows = transform(extract())


if __name__ == "__main__":
    for attempt in (1, 2):
        state = flow.run()
        print(f"run {attempt}: {type(state.result[rows]).__name__} {state.result[rows].result}")
