"""``@resource_manager``: a class with ``setup()`` and ``cleanup(resource)`` whose ``with``
block in a flow becomes three tasks around the tasks made inside it.

``with MyResource(arg) as resource:`` adds an init task (makes ``MyResource(arg)``; its
arguments may be task results), a setup task (calls ``setup()``; ``resource`` stands for
its result) upstream of every task of the block that has no upstream task in the block,
and a cleanup task (calls ``cleanup(resource)``) downstream of every task of the block
that has no downstream task in it. Cleanup runs once every task of the block finished,
even when some failed; it is skipped when setup did not run. A cleanup task stands for
its upstream tasks among the flow's default reference tasks, so a task failing inside the
block still fails the flow.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from headrace.core import active
from headrace.core.errors import NoActiveFlowError
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.engine.signals import SKIP, TRIGGERFAIL
from headrace.engine.state import State

__all__ = [
    "ResourceCleanupTask",
    "ResourceContext",
    "ResourceInitTask",
    "ResourceManager",
    "ResourceSetupTask",
    "resource_cleanup_trigger",
    "resource_manager",
]


class ResourceInitTask(Task):
    """Makes the resource manager's object from its (possibly task-fed) arguments."""

    __slots__ = ("resource_class",)

    def __init__(self, resource_class: type, **kwargs: Any) -> None:
        self.resource_class = resource_class
        super().__init__(**kwargs)

    def run(self, **init_kwargs: Any) -> Any:
        return self.resource_class(**init_kwargs)


class ResourceSetupTask(Task):
    """Calls the object's ``setup()``; its result is the resource the block uses."""

    __slots__ = ()

    def run(self, mgr: Any) -> Any:  # type: ignore[override]
        return mgr.setup()


def resource_cleanup_trigger(upstream_states: Mapping[Any, State]) -> bool:
    """Run once every upstream task finished, whatever its state, unless the resource
    was never made or set up (then ``SKIP``: there is nothing to clean up)."""
    for edge, state in upstream_states.items():
        upstream = getattr(edge, "upstream_task", edge)
        if isinstance(upstream, ResourceInitTask | ResourceSetupTask) and (
            state.is_skipped() or not state.is_successful()
        ):
            raise SKIP("The resource was not set up; nothing to clean up.")
    if not all(state.is_finished() for state in upstream_states.values()):
        raise TRIGGERFAIL("Some tasks using the resource did not finish.")
    return True


class ResourceCleanupTask(Task):
    """Calls the object's ``cleanup(resource)`` once the block's tasks finished."""

    __slots__ = ()
    references_upstream = True  # the flow's default reference tasks look through it

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trigger", resource_cleanup_trigger)
        kwargs.setdefault("skip_on_upstream_skip", False)
        super().__init__(**kwargs)

    def run(self, mgr: Any, resource: Any) -> Any:  # type: ignore[override]
        return mgr.cleanup(resource)


class ResourceContext:
    """The ``with`` block of one use of a resource manager in a flow."""

    def __init__(self, manager: ResourceManager, init_kwargs: dict[str, Any]) -> None:
        self.manager = manager
        self.init_kwargs = init_kwargs
        self.init_task: ResourceInitTask | None = None
        self.setup_task: ResourceSetupTask | None = None
        self.cleanup_task: ResourceCleanupTask | None = None
        self._flow: Flow | None = None
        self._tasks: dict[Task, None] = {}
        self._collecting: AbstractContextManager[None] | None = None

    def _collect(self, flow: Flow, task: Task) -> None:
        if flow is self._flow:
            self._tasks[task] = None

    def __enter__(self) -> Task:
        flow = active.active_flow()
        if flow is None:
            raise NoActiveFlowError(
                f"resource manager {self.manager.name!r} needs a flow: use it inside "
                f"`with Flow(...):`"
            )
        self._flow = flow
        name = self.manager.name
        init = ResourceInitTask(self.manager.resource_class, name=name)
        flow.set_dependencies(init, keyword_tasks=self.init_kwargs)
        setup = ResourceSetupTask(name=f"{name}.setup")
        flow.set_dependencies(setup, keyword_tasks={"mgr": init})
        cleanup = ResourceCleanupTask(name=f"{name}.cleanup")
        flow.set_dependencies(cleanup, keyword_tasks={"mgr": init, "resource": setup})
        self.init_task, self.setup_task, self.cleanup_task = init, setup, cleanup
        self._tasks = {}
        self._collecting = active.collecting(self._collect)
        self._collecting.__enter__()
        return setup

    def __exit__(self, *exc: object) -> None:
        assert self._collecting is not None and self._flow is not None
        assert self.setup_task is not None and self.cleanup_task is not None
        self._collecting.__exit__(None, None, None)
        self._collecting = None
        if exc[0] is not None:
            return
        flow, children = self._flow, self._tasks
        setup, cleanup = self.setup_task, self.cleanup_task
        for child in children:
            upstream = flow.upstream_tasks(child)
            if setup not in upstream and not any(t in children for t in upstream):
                flow.add_edge(setup, child)
            if not any(t in children for t in flow.downstream_tasks(child)):
                flow.add_edge(child, cleanup)


class ResourceManager:
    """What ``@resource_manager`` turns a class into: calling it in a flow gives the
    ``with`` block (:class:`ResourceContext`) for one use of the resource."""

    def __init__(self, resource_class: type, name: str | None = None) -> None:
        for method in ("setup", "cleanup"):
            if not callable(getattr(resource_class, method, None)):
                raise TypeError(
                    f"@resource_manager class {resource_class.__name__!r} has no {method}() method"
                )
        self.resource_class = resource_class
        self.name = name or resource_class.__name__
        # The decorator's name now holds this manager; point the class's own pickled name
        # at it through this attribute, so objects of the class pickle to other processes.
        if "<locals>" not in resource_class.__qualname__:
            resource_class.__qualname__ = f"{resource_class.__qualname__}.resource_class"

    def __repr__(self) -> str:
        return f"<ResourceManager {self.name!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> ResourceContext:
        signature = inspect.signature(self.resource_class)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"resource manager {self.name!r}: {exc}") from None
        init_kwargs: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                init_kwargs.update(value)
            elif signature.parameters[key].kind is inspect.Parameter.VAR_POSITIONAL:
                raise TypeError(f"resource manager {self.name!r}: *{key} is not supported")
            else:
                init_kwargs[key] = value
        return ResourceContext(self, init_kwargs)


def resource_manager(resource_class: type | None = None, *, name: str | None = None) -> Any:
    """Decorate a class with ``setup()`` and ``cleanup(resource)``: ``@resource_manager``
    or ``@resource_manager(name="cluster")``."""
    if resource_class is None:
        return lambda cls: ResourceManager(cls, name=name)
    return ResourceManager(resource_class, name=name)
