"""``Task``: a unit of work in a flow, and the ``@task`` decorator.

Subclass :class:`Task` and override ``run()``, or decorate a function with ``@task``.
A task object carries only its settings; which flow it belongs to and what feeds its
arguments live on the :class:`~headrace.core.flow.Flow`. No metaclass and no operator
overloading: the functional API is ``task(...)`` inside ``with Flow(...)``, ``task.map(...)``,
and iteration for ``nout=`` tuple unpacking.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, overload

from headrace.core import active
from headrace.core.errors import NoActiveFlowError

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["FunctionTask", "Task", "task"]

F = TypeVar("F", bound=Callable[..., Any])


def _seconds(value: Any, what: str, task_name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"Task {task_name!r}: {what} must be a number of seconds or a timedelta, "
            f"not {type(value).__name__}"
        )
    if value < 0:
        raise ValueError(f"Task {task_name!r}: {what} must not be negative (got {value})")
    return float(value)


class Task:
    """A unit of work. Override :meth:`run`; its arguments are the task's inputs.

    Options: ``max_retries``/``retry_delay``/``retry_on`` retry failures; ``timeout`` ends
    a run ``TimedOut``; ``trigger`` decides from upstream states whether to run (default
    ``all_successful``); ``skip_on_upstream_skip`` skips when an upstream task skipped;
    ``cache_for``/``cache_validator``/``cache_key`` reuse earlier results; ``checkpoint``,
    ``result`` and ``target`` persist results; ``state_handlers`` see every state change;
    ``nout`` makes the task unpackable; ``log_stdout`` sends prints to the task's log.
    """

    __slots__ = (
        "__weakref__",
        "cache_for",
        "cache_key",
        "cache_validator",
        "checkpoint",
        "log_stdout",
        "max_retries",
        "name",
        "nout",
        "result",
        "retry_delay",
        "retry_on",
        "skip_on_upstream_skip",
        "slug",
        "state_handlers",
        "tags",
        "target",
        "timeout",
        "trigger",
    )

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int = 0,
        retry_delay: timedelta | float | None = None,
        retry_on: type[BaseException] | Iterable[type[BaseException]] | None = None,
        timeout: timedelta | float | None = None,
        trigger: Callable[..., bool] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: timedelta | float | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        result: Any = None,
        target: str | Callable[..., str] | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        nout: int | None = None,
        log_stdout: bool = False,
    ) -> None:
        self.name = name if name is not None else type(self).__name__
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a task's name must be a non-empty string, not {self.name!r}")
        label = self.name
        self.slug = slug
        self.tags = frozenset(tags or ())
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(
                f"Task {label!r}: max_retries must be an int >= 0, not {max_retries!r}"
            )
        self.max_retries = max_retries
        self.retry_delay = _seconds(retry_delay, "retry_delay", label)
        if retry_on is not None and isinstance(retry_on, type):
            retry_on = (retry_on,)
        self.retry_on = tuple(retry_on) if retry_on is not None else None
        if self.retry_on is not None:
            for exc_type in self.retry_on:
                if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
                    raise TypeError(f"Task {label!r}: retry_on must list exception types")
        self.timeout = _seconds(timeout, "timeout", label)
        if self.timeout == 0:
            raise ValueError(f"Task {label!r}: timeout must be positive")
        if trigger is not None and not callable(trigger):
            raise TypeError(f"Task {label!r}: trigger must be callable")
        self.trigger = trigger
        self.skip_on_upstream_skip = bool(skip_on_upstream_skip)
        cache_seconds = _seconds(cache_for, "cache_for", label)
        self.cache_for = timedelta(seconds=cache_seconds) if cache_seconds is not None else None
        if cache_validator is not None and not callable(cache_validator):
            raise TypeError(f"Task {label!r}: cache_validator must be callable")
        self.cache_validator = cache_validator
        if cache_key is not None and not isinstance(cache_key, str):
            raise TypeError(f"Task {label!r}: cache_key must be a string")
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        if result is not None and not (hasattr(result, "write") and hasattr(result, "read")):
            raise TypeError(
                f"Task {label!r}: result must be a Result (such as LocalResult), "
                f"not {type(result).__name__}"
            )
        self.result = result
        if target is not None and not (isinstance(target, str) or callable(target)):
            raise TypeError(f"Task {label!r}: target must be a string template or callable")
        self.target = target
        handlers = list(state_handlers or ())
        for handler in handlers:
            if not callable(handler):
                raise TypeError(f"Task {label!r}: state handler {handler!r} is not callable")
        self.state_handlers = handlers
        if nout is not None and (not isinstance(nout, int) or nout < 1):
            raise ValueError(f"Task {label!r}: nout must be a positive int, not {nout!r}")
        self.nout = nout
        self.log_stdout = bool(log_stdout)
        for param in inspect.signature(self.run).parameters.values():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                raise TypeError(
                    f"Task {label!r}: run() takes *{param.name}; tasks need named arguments"
                )

    def run(self) -> Any:
        """The task's work. Subclasses override it; its arguments are the task's inputs."""

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    # ---- copying ----------------------------------------------------------------------

    def copy(self, **overrides: Any) -> Task:
        """A new task with the same settings (and ``overrides``), not part of any flow."""
        new = copy.copy(self)
        for key, value in overrides.items():
            if not hasattr(new, key) and key not in type(self).__slots__:
                raise AttributeError(f"Task {self.name!r} has no setting {key!r}")
            setattr(new, key, value)
        if "slug" not in overrides:
            new.slug = None
        return new

    # ---- the functional API -------------------------------------------------------------

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add a copy of this task to the active flow, fed by ``args``/``kwargs``."""
        new = self.copy(**(task_args or {}))
        new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add a copy mapped over its arguments (``unmapped(x)`` holds one constant)."""
        new = self.copy(**(task_args or {}))
        new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def _flow_or_active(self, flow: Flow | None, action: str) -> Flow:
        flow = flow or active.active_flow()
        if flow is None:
            raise NoActiveFlowError(
                f"Task {self.name!r}: {action} needs a flow: use it inside `with Flow(...):` "
                f"or pass flow=. To call the task's function directly, use "
                f"`{self.name}.run(...)`."
            )
        return flow

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Feed this task (itself, not a copy) from ``args``/``kwargs`` in ``flow``."""
        target_flow = self._flow_or_active(flow, "calling or binding")
        signature = inspect.signature(self.run)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Task {self.name!r}: {exc}") from None
        callargs: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                callargs.update(value)
            else:
                callargs[key] = value
        target_flow.set_dependencies(
            self, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        return self

    def set_upstream(
        self, task: Any, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make ``task`` run before this one (feeding argument ``key`` if given)."""
        target_flow = self._flow_or_active(flow, "set_upstream")
        if key is not None:
            target_flow.set_dependencies(self, keyword_tasks={key: task}, mapped=mapped)
        else:
            target_flow.set_dependencies(self, upstream_tasks=[task], mapped=mapped)
        return self

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make this task run before ``task`` (feeding its argument ``key`` if given)."""
        target_flow = self._flow_or_active(flow, "set_downstream")
        if key is not None:
            target_flow.set_dependencies(task, keyword_tasks={key: self}, mapped=mapped)
        else:
            target_flow.set_dependencies(task, upstream_tasks=[self], mapped=mapped)
        return self

    def __iter__(self) -> Iterator[Task]:
        """With ``nout=n``: ``a, b = my_task(...)`` gives one task per element."""
        if self.nout is None:
            raise TypeError(
                f"Task {self.name!r} is not iterable; give it nout= to unpack its result"
            )
        from headrace.core.builtins import GetItem

        flow = self._flow_or_active(None, "unpacking")
        for index in range(self.nout):
            yield GetItem(name=f"{self.name}[{index}]").bind(self, index, flow=flow)


class FunctionTask(Task):
    """A task whose ``run`` is a plain function (what ``@task`` makes)."""

    __slots__ = ("run",)

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"@task needs a callable, not {type(fn).__name__}")
        self.run = fn  # type: ignore[method-assign]
        super().__init__(name=name or getattr(fn, "__name__", type(fn).__name__), **kwargs)

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


@overload
def task(fn: Callable[..., Any], /) -> FunctionTask: ...
@overload
def task(
    fn: None = None, /, **task_init_kwargs: Any
) -> Callable[[Callable[..., Any]], FunctionTask]: ...


def task(
    fn: Callable[..., Any] | None = None, /, **task_init_kwargs: Any
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a task: ``@task`` or ``@task(max_retries=2, ...)``."""
    if fn is None:
        return lambda f: FunctionTask(f, **task_init_kwargs)
    return FunctionTask(fn, **task_init_kwargs)
