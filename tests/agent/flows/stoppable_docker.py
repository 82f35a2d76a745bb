"""A flow to cancel inside a DockerAgent's container: ``blocker`` prints ``BLOCKED`` and
blocks; the environment's ``on_exit`` prints ``ON_EXIT ran`` (the agent captures the
container's output). Docker storage in ``$HEADRACE_TEST_REGISTRY``."""

# ruff: noqa
import functools
import os
import time

from headrace import Flow, task
from headrace.environments.execution import LocalEnvironment
from headrace.storage import Docker


@task
def blocker() -> None:
    print("BLOCKED", flush=True)
    time.sleep(600)


flow = Flow(
    "stoppable-in-docker",
    environment=LocalEnvironment(
        labels=["docker-stop"], on_exit=functools.partial(print, "ON_EXIT ran", flush=True)
    ),
    storage=Docker(
        registry_url=os.environ["HEADRACE_TEST_REGISTRY"] + "/",
        image_name="stoppable-flow",
        image_tag="0.1.0",
    ),
)
flow.add_task(blocker)
