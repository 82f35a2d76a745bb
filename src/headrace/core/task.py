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

    name: str
    slug: str | None
    tags: frozenset[str]
    max_retries: int
    retry_delay: float | None
    retry_on: tuple[type[BaseException], ...] | None
    timeout: float | None
    trigger: Callable[..., bool] | None
    skip_on_upstream_skip: bool
    cache_for: timedelta | None
    cache_validator: Callable[..., bool] | None
    cache_key: str | None
    checkpoint: bool | None
    result: Any
    target: str | Callable[..., str] | None
    state_handlers: list[Callable[..., Any]]
    nout: int | None
    log_stdout: bool

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
        self.slug = slug
        self.tags = tags  # type: ignore[assignment]
        self.max_retries = max_retries
        self.retry_delay = retry_delay  # type: ignore[assignment]
        self.retry_on = retry_on  # type: ignore[assignment]
        self.timeout = timeout  # type: ignore[assignment]
        self.trigger = trigger
        self.skip_on_upstream_skip = skip_on_upstream_skip
        self.cache_for = cache_for  # type: ignore[assignment]
        self.cache_validator = cache_validator
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.result = result
        self.target = target
        self.state_handlers = state_handlers  # type: ignore[assignment]
        self.nout = nout
        self.log_stdout = log_stdout
        self._normalize()
        for param in inspect.signature(self.run).parameters.values():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                raise TypeError(
                    f"Task {self.name!r}: run() takes *{param.name}; tasks need named arguments"
                )

    def _normalize(self) -> None:
        """Check every setting and bring it to its stored form (seconds as floats, tags as a
        frozenset...); run at construction and after ``copy(**overrides)``."""
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a task's name must be a non-empty string, not {self.name!r}")
        label = self.name
        if self.slug is not None and not isinstance(self.slug, str):
            raise TypeError(f"Task {label!r}: slug must be a string, not {self.slug!r}")
        if isinstance(self.tags, str):
            raise TypeError(f"Task {label!r}: tags must be a collection of strings, not a str")
        self.tags = frozenset(self.tags or ())
        max_retries = self.max_retries
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise TypeError(
                f"Task {label!r}: max_retries must be an int, not {type(max_retries).__name__}"
            )
        if max_retries < 0:
            raise ValueError(f"Task {label!r}: max_retries must be >= 0, not {max_retries}")
        self.retry_delay = _seconds(self.retry_delay, "retry_delay", label)
        retry_on: Any = self.retry_on
        if retry_on is not None:
            retry_on = tuple((retry_on,) if isinstance(retry_on, type) else retry_on)
            for exc_type in retry_on:
                if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
                    raise TypeError(
                        f"Task {label!r}: retry_on must list exception types, not {exc_type!r}"
                    )
        self.retry_on = retry_on
        self.timeout = _seconds(self.timeout, "timeout", label)
        if self.timeout == 0:
            raise ValueError(f"Task {label!r}: timeout must be positive")
        if self.trigger is not None and not callable(self.trigger):
            raise TypeError(f"Task {label!r}: trigger must be callable")
        self.skip_on_upstream_skip = bool(self.skip_on_upstream_skip)
        cache_for: Any = self.cache_for
        if not isinstance(cache_for, timedelta):
            seconds = _seconds(cache_for, "cache_for", label)
            cache_for = timedelta(seconds=seconds) if seconds is not None else None
        elif cache_for < timedelta(0):
            raise ValueError(f"Task {label!r}: cache_for must not be negative")
        self.cache_for = cache_for
        if self.cache_validator is not None and not callable(self.cache_validator):
            raise TypeError(f"Task {label!r}: cache_validator must be callable")
        if self.cache_key is not None and not isinstance(self.cache_key, str):
            raise TypeError(f"Task {label!r}: cache_key must be a string")
        if self.checkpoint is not None:
            self.checkpoint = bool(self.checkpoint)
        result = self.result
        if result is not None and not (hasattr(result, "write") and hasattr(result, "read")):
            raise TypeError(
                f"Task {label!r}: result must be a Result (such as LocalResult), "
                f"not {type(result).__name__}"
            )
        target = self.target
        if target is not None and not (isinstance(target, str) or callable(target)):
            raise TypeError(f"Task {label!r}: target must be a string template or callable")
        handlers = list(self.state_handlers or ())
        for handler in handlers:
            if not callable(handler):
                raise TypeError(f"Task {label!r}: state handler {handler!r} is not callable")
        self.state_handlers = handlers
        nout = self.nout
        if nout is not None and (isinstance(nout, bool) or not isinstance(nout, int)):
            raise TypeError(f"Task {label!r}: nout must be an int, not {type(nout).__name__}")
        if nout is not None and nout < 1:
            raise ValueError(f"Task {label!r}: nout must be positive, not {nout}")
        self.log_stdout = bool(self.log_stdout)

    def run(self) -> Any:
        """The task's work. Subclasses override it; its arguments are the task's inputs."""

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    # ---- copying ----------------------------------------------------------------------

    def copy(self, **overrides: Any) -> Task:
        """A new task with the same settings (and ``overrides``), not part of any flow."""
        new = copy.copy(self)
        for key, value in overrides.items():
            if (
                key.startswith("_")
                or not hasattr(new, key)
                or callable(getattr(type(new), key, None))
            ):
                raise AttributeError(f"Task {self.name!r} has no setting {key!r}")
            setattr(new, key, value)
        if "slug" not in overrides:
            new.slug = None
        new.state_handlers = list(new.state_handlers)
        if overrides:
            new._normalize()
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
        target_flow = self._flow_or_active(flow, "calling")
        callargs = self._callargs(args, kwargs, partial=False)
        new = self.copy(**(task_args or {}))
        target_flow.set_dependencies(
            new, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
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
        target_flow = self._flow_or_active(flow, "mapping")
        callargs = self._callargs(args, kwargs, partial=False)
        new = self.copy(**(task_args or {}))
        target_flow.set_dependencies(
            new, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=True
        )
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
        """Feed this task (itself, not a copy) from ``args``/``kwargs`` in ``flow``.

        Arguments may be fed over several calls (``set_upstream(key=...)`` then ``bind``);
        :meth:`Flow.validate` reports any still unfed when the flow runs.
        """
        target_flow = self._flow_or_active(flow, "binding")
        callargs = self._callargs(args, kwargs, partial=True)
        target_flow.set_dependencies(
            self, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        return self

    def _callargs(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], partial: bool
    ) -> dict[str, Any]:
        """``args``/``kwargs`` as ``{argument name: value}`` for ``run``; TypeError names the
        task when they do not fit its signature."""
        from headrace.core.graph import call_signature

        signature = call_signature(self)
        try:
            bound = (signature.bind_partial if partial else signature.bind)(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Task {self.name!r}: {exc}") from None
        callargs: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                callargs.update(value)
            else:
                callargs[key] = value
        return callargs

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
