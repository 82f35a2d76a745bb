"""The classic Prefect 1 ETL: parameters, a mapped transform with retries and a state
handler, a reduce, task run names, run on a short schedule until it ends."""

import datetime

from headrace import Flow, Parameter, context, task
from headrace.schedules import IntervalSchedule

attempts = {}


def on_retry(task, old_state, new_state):
    if new_state.is_retrying():
        print(f"{task.name}: retrying after: {new_state.message.split(': ')[-1]}")
    return new_state


@task
def extract(n):
    return list(range(1, n + 1))


@task(
    max_retries=2,
    retry_delay=datetime.timedelta(seconds=0),
    state_handlers=[on_retry],
    task_run_name="transform-{x}",
)
def transform(x):
    attempts[x] = attempts.get(x, 0) + 1
    if x == 2 and attempts[x] < 2:
        raise ConnectionError("flaky source")
    return x * 10


@task
def load(values):
    late = context.scheduled_start_time > start
    print(f"{'second' if late else 'first'} scheduled run: total {sum(values)}")
    return sum(values)


start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
schedule = IntervalSchedule(
    start_date=start,
    interval=datetime.timedelta(seconds=1),
    end_date=start + datetime.timedelta(seconds=1),
)

with Flow("etl", schedule=schedule) as flow:
    n = Parameter("n", default=3)
    total = load(transform.map(extract(n)))


if __name__ == "__main__":
    state = flow.run(run_on_schedule=True)
    print(type(state).__name__, state.result[total].result)
