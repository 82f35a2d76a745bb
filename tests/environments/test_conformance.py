"""The environment conformance suite: every environment (the base class, LocalEnvironment,
DaskEnvironment, a user's subclass) keeps labels/metadata, serializes to its own fully
qualified type and back, pickles with its flow, and ``execute`` runs a stored flow with
``on_start`` before and ``on_exit`` after — also when the run raises, which is logged and
re-raised."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from headrace.environments.execution import DaskEnvironment, Environment, LocalEnvironment
from headrace.executors import LocalExecutor
from headrace.serialization import load_environment
from headrace.serialization.errors import FlowNotFoundError
from headrace.storage import Local
from support.flows import load_roundtrip_flow, outcome


class CustomEnvironment(Environment):
    """A user's environment: its own setup and an extra dependency."""

    def __init__(self, labels: Any = None, on_start: Any = None, on_exit: Any = None) -> None:
        super().__init__(labels=labels, on_start=on_start, on_exit=on_exit)
        self.prepared: list[str] = []

    @property
    def dependencies(self) -> list[str]:
        return ["json"]

    def setup(self, storage: Any) -> None:
        self.prepared.append(type(storage).__name__)


def dask_environment(**kwargs: Any) -> DaskEnvironment:
    return DaskEnvironment(n_workers=1, threads_per_worker=2, **kwargs)


FACTORIES: dict[str, Callable[..., Environment]] = {
    "base": Environment,
    "local": LocalEnvironment,
    "local-executor": lambda **kw: LocalEnvironment(executor=LocalExecutor(), **kw),
    "dask": dask_environment,
    "custom": CustomEnvironment,
}
PARAMS = [
    pytest.param(name, marks=[pytest.mark.dask] if name == "dask" else []) for name in FACTORIES
]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Local, str]:
    storage = Local(directory=tmp_path)
    location = storage.add_flow(load_roundtrip_flow())
    return storage, location


@pytest.mark.parametrize("kind", PARAMS)
def test_execute_runs_the_stored_flow_between_the_callbacks(
    kind: str, stored: tuple[Local, str]
) -> None:
    storage, location = stored
    calls: list[str] = []
    env = FACTORIES[kind](
        on_start=lambda: calls.append("start"), on_exit=lambda: calls.append("exit")
    )
    env.setup(storage)
    state = env.execute(storage, location)
    assert calls == ["start", "exit"]
    assert outcome(state) == {"state": "Success", "total": 18, "square": [1, 2, 5, 10]}


@pytest.mark.parametrize("kind", [k for k in FACTORIES if k != "dask"])
def test_kwargs_reach_the_flow_runner(kind: str, stored: tuple[Local, str]) -> None:
    storage, location = stored
    state = FACTORIES[kind]().execute(storage, location, parameters={"n": 2, "offset": 5})
    assert outcome(state)["square"] == [5, 6]


@pytest.mark.parametrize("kind", [k for k in FACTORIES if k != "dask"])
def test_errors_are_logged_reraised_and_on_exit_still_runs(
    kind: str, stored: tuple[Local, str], caplog: pytest.LogCaptureFixture
) -> None:
    storage, _ = stored
    calls: list[str] = []
    env = FACTORIES[kind](
        on_start=lambda: calls.append("start"), on_exit=lambda: calls.append("exit")
    )
    logger = logging.getLogger("headrace")
    logger.addHandler(caplog.handler)
    try:
        with pytest.raises(FlowNotFoundError, match="'missing-location'"):
            env.execute(storage, "missing-location")
    finally:
        logger.removeHandler(caplog.handler)
    assert calls == ["start", "exit"]
    assert any(
        r.name == f"headrace.environment.{type(env).__name__}"
        and "Unexpected error raised during flow run" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize("kind", [k for k in FACTORIES])
def test_serializes_to_its_own_type_and_back(kind: str) -> None:
    env = FACTORIES[kind](labels=["b", "a"])
    env.metadata = {"team": "data", "image": None}
    doc = env.serialize()
    assert doc == {
        "type": f"{type(env).__module__}:{type(env).__qualname__}",
        "labels": ["a", "b"],
        "metadata": {"team": "data", "image": None},
    }
    assert json.loads(json.dumps(doc)) == doc
    back = load_environment(doc)
    assert type(back) is type(env)
    assert back.labels == {"a", "b"}
    assert back.metadata == env.metadata
    assert back.serialize() == doc


@pytest.mark.parametrize("kind", [k for k in FACTORIES])
def test_pickles_with_its_flow_and_lists_importable_dependencies(kind: str) -> None:
    env = FACTORIES[kind](labels=["x"], on_start=print)
    clone = cloudpickle.loads(cloudpickle.dumps(env))
    assert type(clone) is type(env)
    assert clone.labels == {"x"}
    assert clone.on_start is print
    assert isinstance(env.dependencies, list)
    for module in env.dependencies:
        __import__(module)
    assert env.logger.name == f"headrace.environment.{type(env).__name__}"
    assert env.setup(Local()) is None


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="on_start must be callable"):
        Environment(on_start="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="labels must be a list"):
        Environment(labels="abc")
    with pytest.raises(TypeError, match="metadata must be a mapping"):
        Environment(metadata=[1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="executor must be an executor"):
        LocalEnvironment(executor="local")
    with pytest.raises(ValueError, match="either address"):
        DaskEnvironment(address="tcp://127.0.0.1:1", cluster_kwargs={"n_workers": 1})
    with pytest.raises(ValueError, match="n_workers must be >= 1"):
        DaskEnvironment(n_workers=0)
    assert DaskEnvironment().dependencies == ["distributed"]
