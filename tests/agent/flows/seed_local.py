"""The reference document's example (``prefect`` -> ``headrace``) with Local storage: the
flow file itself is the storage (``stored_as_script``), and the custom environment's
``on_start``/``on_exit`` write marker files into ``$HEADRACE_TEST_MARKERS`` so the test
can see they ran in the agent's process."""

# ruff: noqa
import os
from pathlib import Path
from typing import Any, Callable, List

from headrace import config
from headrace.environments.execution import Environment
from headrace.storage import Storage


class MyCustomEnvironment(Environment):
    """MyCustomEnvironment is my environment that uses the default executor to run a Flow."""

    def __init__(
        self,
        labels: List[str] = None,
        on_start: Callable = None,
        on_exit: Callable = None,
    ) -> None:
        super().__init__(labels=labels, on_start=on_start, on_exit=on_exit)

    @property
    def dependencies(self) -> list:
        return []

    def setup(self, storage: "Storage") -> None:
        pass

    def execute(self, storage: "Storage", flow_location: str, **kwargs: Any) -> None:  # type: ignore
        if self.on_start:
            self.on_start()
        try:
            from headrace.engine import (
                get_default_executor_class,
                get_default_flow_runner_class,
            )

            flow = storage.get_flow(flow_location)
            executor = get_default_executor_class()
            runner_cls = get_default_flow_runner_class()
            runner_cls(flow=flow).run(executor=executor)
        except Exception as exc:
            self.logger.exception("Unexpected error raised during flow run: {}".format(exc))
            raise exc
        finally:
            if self.on_exit:
                self.on_exit()


def _marker(name: str) -> Callable[[], None]:
    def write() -> None:
        folder = Path(os.environ["HEADRACE_TEST_MARKERS"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{os.getpid()}\n")

    return write


from headrace import task, Flow
from headrace.storage import Local


@task
def get_value():
    return "Example!"


@task(log_stdout=True)
def output_value(value):
    print(value)


flow = Flow(
    "Custom Environment Example",
    environment=MyCustomEnvironment(
        labels=["seed-env"], on_start=_marker("on_start"), on_exit=_marker("on_exit")
    ),
    storage=Local(stored_as_script=True, path=__file__),
)

output_value.set_upstream(get_value, flow=flow)
output_value.bind(value=get_value, flow=flow)
