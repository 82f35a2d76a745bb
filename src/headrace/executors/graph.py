"""The dask graph the Dask executors build while the flow runner submits.

Both Dask executors turn ``submit(fn, *args)`` into a node of a dask task graph instead of
running or sending anything at once: the flow runner submits a whole flow in topological
order and waits once at the end, so the graph reaches dask's scheduler in one piece, the way
``dask.delayed`` graphs do. A :class:`Ref` (a ``dask`` ``TaskRef``) stands for a node's
future result; refs may sit anywhere in the arguments, nested in lists, tuples and dicts.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from headrace.engine.contracts import task_of
from headrace.executors._dask import DataNode, GraphNode, Task, TaskRef, parse_input

__all__ = ["GraphBuilder", "Node", "Ref", "as_dask", "collect_keys", "label_of", "substitute"]


class Ref(TaskRef):
    """The future result of a node of the graph (its key)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<Ref {self.key!r}>"


def label_of(fn: Callable[..., Any]) -> str:
    """A readable prefix for the keys of ``fn``'s calls: the task's name for a
    :class:`~headrace.engine.contracts.Runnable`, else the function's name (dask groups
    keys by it in its dashboard and errors)."""
    task = task_of(fn)
    name = task.name if task is not None else None
    if name is None:
        name = getattr(fn, "__name__", None) or type(fn).__name__
    return str(name).replace("-", "_")


class Node:
    """A submitted call, before it goes to dask: ``fn(*args, **kwargs)`` once the refs in
    them are computed (``dependencies``: their keys, in order of first appearance).

    Cheaper than a dask task spec, which parses every argument into nested graph nodes
    (the upstream states' dict, the context...): the refs are found once here, the
    arguments that hold none are kept as they are, and the dask spec (:meth:`task`: one
    ``Task`` taking the dependencies' values as plain positional refs) is built only for a
    node dask runs by itself -- a chain of nodes is one dask task for the whole chain
    (:mod:`~headrace.executors.chains`), which calls each node directly."""

    __slots__ = ("args", "dependencies", "fn", "key", "kwargs", "with_refs")

    def __init__(
        self,
        key: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        dependencies: tuple[Any, ...],
        with_refs: tuple[int | str, ...],
    ) -> None:
        self.key = key
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.dependencies = dependencies
        self.with_refs = with_refs  # positions and names of the arguments holding refs

    def __repr__(self) -> str:
        return f"<Node {self.key!r}>"

    def __call__(self, *values: Any) -> Any:
        """Call ``fn`` with the dependencies' values (in ``dependencies`` order)."""
        if not self.with_refs:
            return self.fn(*self.args, **self.kwargs)
        known = dict(zip(self.dependencies, values, strict=True))
        args = list(self.args)
        kwargs = dict(self.kwargs) if self.kwargs else self.kwargs
        for where in self.with_refs:
            if type(where) is int:
                args[where] = substitute(args[where], known)
            else:
                kwargs[where] = substitute(kwargs[where], known)  # type: ignore[index]
        return self.fn(*args, **kwargs)

    def task(self) -> Task:
        """The dask task spec of this node alone, for a scheduler in this process: the
        node itself called with its dependencies' values as flat positional refs."""
        return Task(self.key, self, *[TaskRef(k) for k in self.dependencies])

    def parsed_task(self) -> Task:
        """The dask task spec of this node for a scheduler that pickles it (worker
        processes, a cluster): ``fn`` with its arguments parsed by dask, as
        ``dask.delayed`` would send them (the flat form pickles larger there, holding the
        arguments and the refs beside them); only the arguments holding refs are parsed."""
        with_refs = set(self.with_refs)
        args = [parse_input(a) if i in with_refs else a for i, a in enumerate(self.args)]
        kwargs: dict[str, Any] = {
            k: parse_input(v) if k in with_refs else v for k, v in self.kwargs.items()
        }
        return Task(self.key, self.fn, *args, **kwargs)


class GraphBuilder:
    """Accumulates graph nodes; :meth:`take` hands over (and forgets) the pending ones."""

    __slots__ = ("_count", "_plain", "_token", "pending")

    def __init__(self) -> None:
        self.pending: dict[str, Node | GraphNode] = {}
        self._token = uuid.uuid4().hex[:10]
        self._count = itertools.count()
        self._plain: dict[int, Any] = {}  # id -> containers seen to hold no refs (kept alive)

    def parse(self, arg: Any) -> Any:
        """``arg`` as a dask graph argument. The run's context dict goes with every call: a
        container once seen to hold no refs is not searched again."""
        if type(arg) in _CONTAINERS:
            if id(arg) in self._plain:
                return arg
            parsed = parse_input(arg)
            if parsed is arg:
                self._plain[id(arg)] = arg
            return parsed
        return parse_input(arg)

    def _refs(self, arg: Any, into: dict[Any, None]) -> bool:
        """Add the keys of the refs in ``arg`` to ``into``; whether it holds any. The run's
        context dict goes with every call: a container once seen to hold no refs is not
        searched again."""
        kind = type(arg)
        if kind in _CONTAINERS:
            if id(arg) in self._plain:
                return False
            found = _collect(arg, into)
            if not found:
                self._plain[id(arg)] = arg
            return found
        if isinstance(arg, TaskRef):
            into[arg.key] = None
            return True
        return False

    def key(self, label: str) -> str:
        return f"{label}-{self._token}-{next(self._count)}"

    def node(
        self, key: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Node:
        """A :class:`Node` calling ``fn(*args, **kwargs)``."""
        deps: dict[Any, None] = {}
        refs = self._refs
        with_refs: list[int | str] = [i for i, a in enumerate(args) if refs(a, deps)]
        if kwargs:
            with_refs.extend(k for k, v in kwargs.items() if refs(v, deps))
        return Node(key, fn, args, kwargs, tuple(deps), tuple(with_refs))

    def add(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Ref:
        """A node calling ``fn(*args, **kwargs)`` once the refs in them are computed."""
        key = self.key(label_of(fn))
        self.pending[key] = self.node(key, fn, args, kwargs)
        return Ref(key)

    def add_many(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], share: bool
    ) -> list[Ref]:
        """One node per call. With ``share`` what the calls have in common -- the function,
        arguments that are the same object in every call, the keys of dict arguments --
        becomes one data node the calls depend on, so a distributed scheduler ships it to
        each worker once instead of once per call (a mapped task's code, the run's context,
        the ``Edge`` keys of its upstream states)."""
        label = label_of(fn)
        pending = self.pending
        parse = self.parse
        refs = []
        shared = _SharedCall.of(fn, calls) if share else None
        if shared is None:
            for call in calls:
                key = self.key(label)
                pending[key] = self.node(key, fn, call, {})
                refs.append(Ref(key))
            return refs
        code_key = self.key(f"{label}_shared")
        pending[code_key] = DataNode(code_key, shared)
        code_ref = TaskRef(code_key)
        varying = shared.varying
        for call in calls:
            key = self.key(label)
            args = [parse(shared.pack(i, call[i])) for i in varying]
            pending[key] = Task(key, _call_shared, code_ref, *args)
            refs.append(Ref(key))
        return refs

    def take(self) -> dict[str, Node | GraphNode]:
        taken, self.pending = self.pending, {}
        return taken


def as_dask(node: Node | GraphNode, pickled: bool = False) -> GraphNode:
    """``node`` as a dask graph node (``pickled``: for a scheduler that pickles it)."""
    if isinstance(node, Node):
        return node.parsed_task() if pickled else node.task()
    return node


def _collect(obj: Any, into: dict[Any, None]) -> bool:
    """Add the key of every :class:`TaskRef` in ``obj`` (nested in lists, tuples and dicts)
    to ``into``; whether there was one."""
    if isinstance(obj, TaskRef):
        into[obj.key] = None
        return True
    found = False
    if isinstance(obj, (list, tuple)):
        for item in obj:
            if type(item) in _SCALARS:
                continue
            found = _collect(item, into) or found
    elif isinstance(obj, dict):
        for item in obj.values():
            if type(item) in _SCALARS:
                continue
            found = _collect(item, into) or found
    return found


_SCALARS = frozenset({int, float, str, bool, type(None), bytes})


_CONTAINERS = (dict, list, tuple)


class _SharedCall:
    """What every call of a batch has in common: the function, the arguments that are the
    same object in each call, and the keys of dict arguments whose keys are the same."""

    __slots__ = ("consts", "dict_keys", "fn", "size", "varying")

    def __init__(
        self,
        fn: Callable[..., Any],
        size: int,
        consts: dict[int, Any],
        dict_keys: dict[int, tuple[Any, ...]],
    ) -> None:
        self.fn = fn
        self.size = size
        self.consts = consts
        self.dict_keys = dict_keys
        self.varying = tuple(i for i in range(size) if i not in consts)

    @classmethod
    def of(cls, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> _SharedCall | None:
        if len(calls) < 2:
            return None
        first = calls[0]
        size = len(first)
        if any(len(c) != size for c in calls):
            return None
        consts: dict[int, Any] = {}
        dict_keys: dict[int, tuple[Any, ...]] = {}
        for i, value in enumerate(first):
            if all(c[i] is value for c in calls):
                if isinstance(parse_input(value), GraphNode | TaskRef):
                    continue  # refers to results: must stay in each call to be resolved
                consts[i] = value
            elif isinstance(value, dict):
                keys = tuple(value)
                if all(type(c[i]) is dict and tuple(c[i]) == keys for c in calls):
                    dict_keys[i] = keys
        return cls(fn, size, consts, dict_keys)

    def pack(self, index: int, value: Any) -> Any:
        """The part of argument ``index`` that travels with each call."""
        if index in self.dict_keys:
            return list(value.values())
        return value

    def unpack(self, varying: tuple[Any, ...]) -> list[Any]:
        args: list[Any] = [None] * self.size
        for i, value in self.consts.items():
            args[i] = value
        for i, value in zip(self.varying, varying, strict=True):
            keys = self.dict_keys.get(i)
            args[i] = value if keys is None else dict(zip(keys, value, strict=True))
        return args


def _call_shared(shared: _SharedCall, *varying: Any) -> Any:
    return shared.fn(*shared.unpack(varying))


def collect_keys(obj: Any, into: set[Any]) -> None:
    """Add the key of every :class:`Ref` in ``obj`` (a ref, or lists/tuples/dicts of them)."""
    if isinstance(obj, TaskRef):
        into.add(obj.key)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            collect_keys(item, into)
    elif isinstance(obj, dict):
        for item in obj.values():
            collect_keys(item, into)


def substitute(obj: Any, values: dict[Any, Any]) -> Any:
    """``obj`` with every :class:`Ref` replaced by its value from ``values``."""
    if isinstance(obj, TaskRef):
        return values[obj.key]
    if isinstance(obj, list):
        return [substitute(item, values) for item in obj]
    if isinstance(obj, tuple):
        return tuple(substitute(item, values) for item in obj)
    if isinstance(obj, dict):
        return {k: substitute(v, values) for k, v in obj.items()}
    return obj
