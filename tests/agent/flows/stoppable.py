"""A flow to stop in the middle: ``first`` succeeds, ``blocker`` blocks (and tries to swallow
whatever interrupts it with ``except Exception``), ``after`` would run last. The custom
environment (shaped like the reference document's: it catches ``Exception`` and calls
``on_exit`` in ``finally``) writes marker files into ``$HEADRACE_TEST_MARKERS``:
``blocked`` (the pid of the run's process), ``swallowed``, ``after`` and ``on_exit``.
``$HEADRACE_TEST_EXECUTOR=threads`` runs it on ``LocalDaskExecutor("threads")``."""

# ruff: noqa
import os
import time
from pathlib import Path
from typing import Any

from headrace import Flow, task
from headrace.environments.execution import Environment


def _folder() -> Path:
    folder = Path(os.environ["HEADRACE_TEST_MARKERS"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def on_exit() -> None:
    (_folder() / "on_exit").write_text(f"{os.getpid()}\n")


class ExitHookEnvironment(Environment):
    def execute(self, storage: Any, flow_location: str, **kwargs: Any) -> None:  # type: ignore
        from headrace.engine import get_default_executor_class, get_default_flow_runner_class

        try:
            flow = storage.get_flow(flow_location)
            runner_cls = get_default_flow_runner_class()
            runner_cls(flow=flow).run(executor=flow.executor or get_default_executor_class())
        except Exception as exc:
            self.logger.exception("Unexpected error raised during flow run: %s", exc)
            raise
        finally:
            if self.on_exit:
                self.on_exit()


@task
def first() -> int:
    return 1


@task
def blocker(x: int) -> int:
    (_folder() / "blocked").write_text(str(os.getpid()))
    try:
        time.sleep(600)
    except Exception:  # a user's catch-all must not keep the run alive
        (_folder() / "swallowed").write_text("yes")
    return x


@task
def after(x: int) -> None:
    (_folder() / "after").write_text("ran")


with Flow("stoppable", environment=ExitHookEnvironment(on_exit=on_exit)) as flow:
    after(blocker(first()))

if os.environ.get("HEADRACE_TEST_EXECUTOR") == "threads":
    from headrace.executors import LocalDaskExecutor

    flow.executor = LocalDaskExecutor("threads")
