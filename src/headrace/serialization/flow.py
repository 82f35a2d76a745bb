"""The flow document: one versioned, plain-JSON description of a flow for the server.

It holds the graph (tasks, parameters, edges, reference tasks) and the flow's schedule,
environment, storage and run config — never code or pickles. Each part is written from one
schema: the task and parameter fields below, and each deployment object's own
``serialized_fields`` (see :mod:`headrace.serialization.schema`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from headrace._serializable.errors import SerializationError, UnsupportedVersionError
from headrace._serializable.schema import load_object, to_json_value, type_name

if TYPE_CHECKING:
    from headrace.core.flow import Flow
    from headrace.core.task import Task
    from headrace.environments.execution import Environment
    from headrace.run_configs import RunConfig
    from headrace.storage import Storage

__all__ = [
    "FLOW_DOCUMENT_VERSION",
    "FlowDocument",
    "flow_hash",
    "load_environment",
    "load_flow_document",
    "load_run_config",
    "load_storage",
    "serialize_flow",
]

FLOW_DOCUMENT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})


# Modules whose callables documents name by their public path: triggers live in the engine
# (``headrace.engine.triggers``) but documents and flow hashes keep ``headrace.triggers``.
_PUBLIC_MODULES = {"headrace.engine.triggers": "headrace.triggers"}


def _name_of(obj: Any) -> str | None:
    """A callable's ``module:QualName`` (for triggers, validators, targets)."""
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    target = obj if isinstance(obj, type) or hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", "?")
    module = _PUBLIC_MODULES.get(module, module)
    return f"{module}:{getattr(target, '__qualname__', repr(obj))}"


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# The task schema: document key -> how to read it from (task, flow).
TASK_FIELDS: dict[str, Callable[[Task, Flow], Any]] = {
    "name": lambda t, f: t.name,
    "slug": lambda t, f: f.slugs[t],
    "type": lambda t, f: type_name(type(t)),
    "tags": lambda t, f: sorted(t.tags),
    "max_retries": lambda t, f: t.max_retries,
    "retry_delay": lambda t, f: _seconds(t.retry_delay),
    "timeout": lambda t, f: _seconds(t.timeout),
    "trigger": lambda t, f: _name_of(t.trigger) or "headrace.triggers:all_successful",
    "skip_on_upstream_skip": lambda t, f: t.skip_on_upstream_skip,
    "mapped": lambda t, f: any(e.mapped for e in f.edges_to(t)),
    "cache_for": lambda t, f: _seconds(t.cache_for),
    "cache_key": lambda t, f: t.cache_key,
    "cache_validator": lambda t, f: _name_of(t.cache_validator),
    "checkpoint": lambda t, f: t.checkpoint,
    "result": lambda t, f: _name_of(type(t.result)) if t.result is not None else None,
    "target": lambda t, f: _name_of(t.target),
    "nout": lambda t, f: t.nout,
    "log_stdout": lambda t, f: t.log_stdout,
}

PARAMETER_FIELDS: dict[str, Callable[[Any, Flow], Any]] = {
    "name": lambda p, f: p.name,
    "slug": lambda p, f: f.slugs[p],
    "default": lambda p, f: (
        None
        if getattr(p, "secret", False)
        else to_json_value(p.default, f"the default of parameter {p.name!r}")
    ),
    "required": lambda p, f: p.required,
}


def _edge_doc(edge: Any, flow: Flow) -> dict[str, Any]:
    return {
        "upstream": flow.slugs[edge.upstream_task],
        "downstream": flow.slugs[edge.downstream_task],
        "key": edge.key,
        "mapped": edge.mapped,
        "flattened": edge.flattened,
    }


def serialize_flow(flow: Flow, build: bool = False) -> dict[str, Any]:
    """The flow's document. With ``build=True`` the flow is added to its storage (if not
    there yet) and the storage is built (and health-checked) first."""
    from headrace.environments.execution import LocalEnvironment

    storage = flow.storage
    if build:
        if storage is None:
            raise SerializationError(
                f"Flow {flow.name!r}: build=True needs a storage (set flow.storage)"
            )
        if flow.name not in storage:
            storage.add_flow(flow)
        storage = storage.build()
        flow.storage = storage
    environment = flow.environment if flow.environment is not None else LocalEnvironment()
    tasks = sorted(flow.tasks, key=lambda t: flow.slugs[t])
    return {
        "version": FLOW_DOCUMENT_VERSION,
        "name": flow.name,
        "tasks": [{k: get(t, flow) for k, get in TASK_FIELDS.items()} for t in tasks],
        "parameters": [
            {k: get(p, flow) for k, get in PARAMETER_FIELDS.items()}
            | ({"secret": True} if getattr(p, "secret", False) else {})
            for p in sorted(flow.parameters(), key=lambda p: p.name)
        ],
        "edges": sorted(
            (_edge_doc(e, flow) for e in flow.edges),
            key=lambda d: (d["upstream"], d["downstream"], d["key"] or ""),
        ),
        "reference_tasks": sorted(flow.slugs[t] for t in flow.reference_tasks()),
        "schedule": flow.schedule.serialize() if flow.schedule is not None else None,
        "environment": environment.serialize(),
        "storage": storage.serialize() if storage is not None else None,
        "run_config": flow.run_config.serialize() if flow.run_config is not None else None,
    }


def flow_hash(flow: Flow) -> str:
    """SHA-256 of the flow's canonical document: changes with the graph or configuration."""
    canonical = json.dumps(serialize_flow(flow), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_environment(doc: Any) -> Environment:
    """The environment an ``environment.serialize()`` document describes."""
    from headrace.environments.execution import Environment

    return load_object(doc, Environment, "environment")


def load_storage(doc: Any) -> Storage:
    """The storage a ``storage.serialize()`` document describes, flows map included."""
    from headrace.storage.base import load_storage as load

    return load(doc)


def load_run_config(doc: Any) -> RunConfig:
    """The run config a ``run_config.serialize()`` document describes."""
    from headrace.run_configs import RunConfig

    return load_object(doc, RunConfig, "run config")


@dataclass(frozen=True)
class FlowDocument:
    """A checked flow document with its deployment parts loaded back into objects."""

    name: str
    tasks: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    reference_tasks: list[str]
    schedule: Any
    environment: Environment
    storage: Storage | None
    run_config: RunConfig | None
    raw: dict[str, Any]


REQUIRED_KEYS = ("name", "tasks", "parameters", "edges", "reference_tasks", "environment")


def load_flow_document(doc: Any) -> FlowDocument:
    """Check a flow document (version first) and load its schedule, environment, storage
    and run config; an unknown version is an :class:`UnsupportedVersionError`."""
    if not isinstance(doc, Mapping):
        raise SerializationError(f"a flow document must be an object, not {type(doc).__name__}")
    version = doc.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersionError(
            f"flow document {doc.get('name')!r} has version {version!r}; this headrace reads "
            f"version(s) {sorted(SUPPORTED_VERSIONS)}"
        )
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise SerializationError(f"flow document {doc.get('name')!r} lacks {missing}")
    slugs = {t.get("slug") for t in doc["tasks"]}
    for edge in doc["edges"]:
        for end in ("upstream", "downstream"):
            if edge.get(end) not in slugs:
                raise SerializationError(
                    f"flow document {doc['name']!r}: edge {end} {edge.get(end)!r} is not a task"
                )
    schedule = None
    if doc.get("schedule") is not None:
        from headrace.schedules import schedule_from_dict

        schedule = schedule_from_dict(doc["schedule"])
    return FlowDocument(
        name=doc["name"],
        tasks=list(doc["tasks"]),
        parameters=list(doc["parameters"]),
        edges=list(doc["edges"]),
        reference_tasks=list(doc["reference_tasks"]),
        schedule=schedule,
        environment=load_environment(doc["environment"]),
        storage=load_storage(doc["storage"]) if doc.get("storage") is not None else None,
        run_config=(
            load_run_config(doc["run_config"]) if doc.get("run_config") is not None else None
        ),
        raw=dict(doc),
    )
