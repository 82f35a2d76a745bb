"""``Task``: a unit of work in a flow, and the ``@task`` decorator.

Subclass :class:`Task` and override ``run()``, or decorate a function with ``@task``.
A task object carries only its settings; which flow it belongs to and what feeds its
arguments live on the :class:`~headrace.core.flow.Flow`. No metaclass and no operator
overloading: the functional API is ``task(...)`` inside ``with Flow(...)``, ``task.map(...)``,
and iteration for ``nout=`` tuple unpacking (:mod:`~headrace.core.task_wiring`); settings
are checked by :mod:`~headrace.core.task_settings`.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, overload

from headrace.core.hooks import OnFailure
from headrace.core.tagging import active_tags
from headrace.core.task_settings import normalize_settings, nout_from_annotation
from headrace.core.task_wiring import TaskWiring
from headrace.utilities.logging import get_logger

__all__ = ["FunctionTask", "Task", "task"]


class Task(TaskWiring):
    """A unit of work. Override :meth:`run`; its arguments are the task's inputs.

    Options: ``max_retries``/``retry_delay``/``retry_on`` retry failures; ``timeout`` ends
    a run ``TimedOut``; ``trigger`` decides from upstream states whether to run (default
    ``all_successful``); ``skip_on_upstream_skip`` skips when an upstream task skipped;
    ``cache_for``/``cache_validator``/``cache_key`` reuse earlier results; ``checkpoint``,
    ``result`` and ``target`` persist results; ``state_handlers`` see every state change;
    ``nout`` makes the task unpackable (inferred from a ``Tuple[...]`` return annotation);
    ``log_stdout`` sends prints to the task's log; ``task_run_name`` (a template formatted
    from the inputs and the context, or a callable) names each run; ``on_failure(task,
    state)`` is called when the task fails.
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
        "task_run_name",
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
    task_run_name: str | Callable[..., str] | None

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
        task_run_name: str | Callable[..., str] | None = None,
        on_failure: Callable[[Any, Any], Any] | None = None,
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
        self.task_run_name = task_run_name
        if on_failure is not None:
            self.state_handlers = [*(state_handlers or ()), OnFailure(on_failure)]
        normalize_settings(self)
        extra = active_tags()
        if extra:
            self.tags = self.tags | extra
        if self.nout is None:
            self.nout = nout_from_annotation(self.run)
        for param in inspect.signature(self.run).parameters.values():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                raise TypeError(
                    f"Task {self.name!r}: run() takes *{param.name}; tasks need named arguments"
                )

    def run(self) -> Any:
        """The task's work. Subclasses override it; its arguments are the task's inputs."""

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    def inputs(self) -> dict[str, dict[str, Any]]:
        """Each argument of ``run()``: its annotated ``type`` (``Any`` if none), whether it
        is ``required`` and its ``default`` (``None`` if required), as Prefect reports."""
        out: dict[str, dict[str, Any]] = {}
        for name, param in inspect.signature(self.run).parameters.items():
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            required = param.default is inspect.Parameter.empty
            annotation = param.annotation
            out[name] = {
                "type": Any if annotation is inspect.Parameter.empty else annotation,
                "required": required,
                "default": None if required else param.default,
            }
        return out

    def outputs(self) -> Any:
        """The return annotation of ``run()`` (``Any`` if none)."""
        returned = inspect.signature(self.run).return_annotation
        return Any if returned is inspect.Signature.empty else returned

    @property
    def logger(self) -> logging.Logger:
        """The task's logger (the one ``context.logger`` gives while the task runs)."""
        return get_logger(f"task.{self.name}")

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
            normalize_settings(new)
        extra = active_tags()
        if extra:
            new.tags = new.tags | extra
        return new


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
