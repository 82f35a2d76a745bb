"""The ``Result`` conformance suite: every Result implementation, one parametrized suite.

Each kind writes a value and reads it back by the concrete location ``write`` returned,
leaves the Result it was called on unchanged, says what it holds in a JSON ``to_dict``,
survives pickling (results travel with states to and from workers), and persists a task's
result through a flow run so that a state rebuilt with only that location
(``NOT_LOADED``) reads the value. A read-only kind (``ConstantResult``) refuses writes
with ``ResultError`` and still reads."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from headrace import Flow, task
from headrace.client.backend.checkpoints import CheckpointResult
from headrace.engine.errors import ResultError
from headrace.engine.results import (
    ConstantResult,
    FSSpecResult,
    LocalResult,
    PrefectResult,
    Result,
    SecretResult,
)
from headrace.engine.state import NOT_LOADED, Success
from headrace.executors import LocalExecutor

VALUE = {"numbers": [1, 2, 3], "name": "héllo"}  # JSON-able, so the inline kinds hold it too
CONTEXT = {"task_slug": "load-1", "map_index": 4, "flow_run_id": "run-1", "flow_name": "f"}


class _FakeSecretTask:
    """What a SecretResult reads through: a task fetching a secret by name."""

    name = "fetch-secret"
    secret_name = "API_TOKEN"

    def run(self, name: str) -> Any:
        return VALUE if name == self.secret_name else None


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[Path], Result]
    writes: bool = True
    finds_missing: bool = True  # exists() says False for a location never written
    templated: bool = True  # its location is a template filled from the run


KINDS = [
    Kind("local", lambda tmp: LocalResult(dir=tmp, location="{task_slug}/{map_index}.pickle")),
    Kind("local-default-location", lambda tmp: LocalResult(dir=tmp), templated=False),
    Kind("checkpoint", lambda tmp: CheckpointResult(dir=tmp), templated=False),
    Kind(
        "fsspec-file",
        lambda tmp: FSSpecResult(f"file://{tmp}", location="{task_slug}/{map_index}.pickle"),
    ),
    Kind("prefect", lambda tmp: PrefectResult(), finds_missing=False, templated=False),
    Kind(
        "secret",
        lambda tmp: SecretResult(_FakeSecretTask()),
        finds_missing=False,
        templated=False,
    ),
    Kind(
        "constant",
        lambda tmp: ConstantResult(VALUE),
        writes=False,
        finds_missing=False,
        templated=False,
    ),
]
PARAMS = [pytest.param(k, id=k.name) for k in KINDS]


def _written(kind: Kind, tmp_path: Path) -> tuple[Result, Result]:
    result = kind.make(tmp_path)
    if not kind.writes:
        return result, result.read(str(result.location))
    return result, result.write(VALUE, **CONTEXT)


@pytest.mark.parametrize("kind", PARAMS)
def test_write_then_read_back_by_the_returned_location(kind: Kind, tmp_path: Path) -> None:
    result, written = _written(kind, tmp_path)
    assert isinstance(written, type(result))
    assert written.value == VALUE
    assert isinstance(written.location, str)
    if kind.writes:
        assert written is not result, "write returns a new Result"
    assert result.exists(written.location)
    back = result.read(written.location)
    assert back is not result
    assert back.value == VALUE
    assert back.location == written.location


@pytest.mark.parametrize("kind", PARAMS)
def test_writing_leaves_the_result_it_was_called_on_unchanged(kind: Kind, tmp_path: Path) -> None:
    result = kind.make(tmp_path)
    before = (result.location, result.value)
    _written(kind, tmp_path)
    assert (result.location, result.value) == before


@pytest.mark.parametrize("kind", [k for k in PARAMS if k.values[0].templated])
def test_the_location_template_is_filled_from_the_run(kind: Kind, tmp_path: Path) -> None:
    _, written = _written(kind, tmp_path)
    assert isinstance(written.location, str)
    assert "load-1" in written.location and "4" in written.location
    assert "{" not in written.location


@pytest.mark.parametrize("kind", [k for k in PARAMS if k.values[0].finds_missing])
def test_a_location_never_written_does_not_exist(kind: Kind, tmp_path: Path) -> None:
    result = kind.make(tmp_path)
    assert not result.exists("never/written.pickle")
    with pytest.raises(ResultError):
        result.read("never/written.pickle")


@pytest.mark.parametrize("kind", PARAMS)
def test_to_dict_is_json_with_a_qualified_type_and_no_value(kind: Kind, tmp_path: Path) -> None:
    _, written = _written(kind, tmp_path)
    doc = written.to_dict()
    assert json.loads(json.dumps(doc)) == doc
    assert ":" in doc["type"] and doc["type"].split(":")[1].endswith("Result")
    assert doc["location"] == written.location
    assert "value" not in doc


@pytest.mark.parametrize("kind", PARAMS)
def test_a_written_result_survives_pickling(kind: Kind, tmp_path: Path) -> None:
    result, written = _written(kind, tmp_path)
    again = pickle.loads(pickle.dumps(written))
    assert again.location == written.location
    assert again.read(str(again.location)).value == VALUE
    assert pickle.loads(pickle.dumps(result)).read(str(written.location)).value == VALUE


@pytest.mark.parametrize("kind", [k for k in PARAMS if not k.values[0].writes])
def test_a_read_only_result_refuses_writes(kind: Kind, tmp_path: Path) -> None:
    with pytest.raises(ResultError):
        kind.make(tmp_path).write(VALUE, **CONTEXT)


# Not SecretResult: a secret task's result is its name, fetched again, not a task's output.
@pytest.mark.parametrize(
    "kind", [k for k in PARAMS if k.values[0].writes and k.values[0].name != "secret"]
)
def test_a_checkpointed_task_persists_and_a_rebuilt_state_reads_it_lazily(
    kind: Kind, tmp_path: Path
) -> None:
    @task(checkpoint=True, result=kind.make(tmp_path))
    def produce() -> Any:
        return VALUE

    with Flow(f"conformance-{kind.name}") as flow:
        produced = produce()
    state = flow.run(executor=LocalExecutor())
    assert state.is_successful()
    task_state = state.result[produced]
    persisted = task_state.persisted
    assert persisted is not None and isinstance(persisted.location, str)
    rebuilt = Success("from the server", NOT_LOADED, persisted=type(persisted)(**_init(persisted)))
    assert rebuilt.result == VALUE


def _init(persisted: Result) -> dict[str, Any]:
    """How a state read back from the server rebuilds its Result: type, where, location."""
    kwargs: dict[str, Any] = {"location": persisted.location}
    for attr in ("dir",):
        if hasattr(persisted, attr):
            value = getattr(persisted, attr)
            kwargs[attr] = value if isinstance(value, str) else str(value)
    return kwargs
