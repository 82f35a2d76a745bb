"""A flow that reads a server-side secret through PrefectSecret and logs it (the log line
must reach the server masked); it writes what it got to a file so the test can check it."""

import os
from pathlib import Path

from headrace import Flow, context, task
from headrace.tasks import EnvVarSecret, PrefectSecret


@task
def use(token: dict, home: str | None) -> None:
    context.logger.info("connecting with token %s", token["token"])
    Path(os.environ["HEADRACE_TEST_COUNTS"], "got.txt").write_text(f"{token['token']}|{home}")


with Flow("uses-secret") as flow:
    use(PrefectSecret("API_TOKEN"), EnvVarSecret("HEADRACE_TEST_COUNTS"))
