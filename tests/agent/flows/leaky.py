"""A flow run that leaks its secrets every way it can, then dies: a task raises an error
whose text holds the storage secret ``$LEAKY_SECRET``, the next one logs it and a
``...TOKEN`` variable, prints both (stdout and stderr), waits for its logs to be shipped
and kills its own process. Nothing of either value may reach the server or the agent's
output unmasked."""

# ruff: noqa
import os
import sys
import time

from headrace import Flow, context, task
from headrace.storage import Local
from headrace.triggers import always_run


@task
def raiser() -> None:
    raise ValueError(f"cannot log in with password {os.environ['LEAKY_SECRET']}")


@task(trigger=always_run)
def dier() -> None:
    secret, token = os.environ["LEAKY_SECRET"], os.environ["LEAKY_SERVICE_TOKEN"]
    context.logger.info("the password is %s and the token %s", secret, token)
    print(f"stdout: password {secret} token {token}", flush=True)
    print(f"stderr: password {secret} token {token}", file=sys.stderr, flush=True)
    time.sleep(2.0)  # the reporter ships the states and logs so far
    os._exit(3)


with Flow(
    "leaky", storage=Local(stored_as_script=True, path=__file__, secrets=["LEAKY_SECRET"])
) as flow:
    dier(upstream_tasks=[raiser()])
