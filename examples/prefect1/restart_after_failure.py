"""Restarting after a failure (Prefect 1's checkpointed targets): the first run fails
half way; the second finds the finished task's result at its target and runs only the
rest."""

import os
import sys

from headrace import Flow, Parameter, task
from headrace.engine.results import LocalResult

WORKDIR = sys.argv[1] if len(sys.argv) > 1 else "."
RESULTS = LocalResult(dir=WORKDIR)


@task(target="{flow_name}/download.pkl", checkpoint=True, result=RESULTS)
def download():
    print("downloading")
    return {"rows": 42}


@task(max_retries=0)
def load(data, ready_file):
    if not os.path.exists(ready_file):
        raise RuntimeError("the warehouse is not ready")
    print(f"loaded {data['rows']} rows")
    return data["rows"]


with Flow("restartable") as flow:
    ready = Parameter("ready_file")
    loaded = load(download(), ready)


if __name__ == "__main__":
    ready_file = os.path.join(WORKDIR, "warehouse-ready")
    first = flow.run(ready_file=ready_file)
    print("first run:", type(first).__name__, "-", first.result[loaded].message)
    open(ready_file, "w").close()
    second = flow.run(ready_file=ready_file)
    print("second run:", type(second).__name__, second.result[loaded].result)
