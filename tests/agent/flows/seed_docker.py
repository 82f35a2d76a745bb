"""The reference document's example (``prefect`` -> ``headrace``) with Docker storage in a
registry on localhost (``$HEADRACE_TEST_REGISTRY``). The custom environment's
``on_start``/``on_exit`` print marker lines the container's output must show."""

# ruff: noqa
import functools
import os
from typing import Any, Callable, List

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


from headrace import task, Flow
from headrace.storage import Docker


@task
def get_value():
    return "Example!"


@task(log_stdout=True)
def output_value(value):
    print(value)


flow = Flow(
    "Custom Environment Example",
    environment=MyCustomEnvironment(
        labels=["docker-seed"],
        on_start=functools.partial(print, "ON_START ran", flush=True),
        on_exit=functools.partial(print, "ON_EXIT ran", flush=True),
    ),
    storage=Docker(
        registry_url=os.environ["HEADRACE_TEST_REGISTRY"] + "/",
        image_name="custom-env-flow",
        image_tag="0.1.0",
    ),
)

output_value.set_upstream(get_value, flow=flow)
output_value.bind(value=get_value, flow=flow)
