"""Results: LocalResult, serializers, checkpointing, and results that cannot be stored."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from headrace import Flow, config, task
from headrace.engine import state as s
from headrace.engine.errors import ResultError
from headrace.engine.results import JSONSerializer, LocalResult, PickleSerializer, Result


def test_local_result_round_trip_with_a_templated_location(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{flow_name}/{task_slug}/{map_index}.pickle")
    written = result.write({"rows": [1, 2]}, flow_name="etl", task_slug="load-1", map_index=3)
    assert written.location == "etl/load-1/3.pickle"
    assert (tmp_path / "etl" / "load-1" / "3.pickle").is_file()
    assert result.location == "{flow_name}/{task_slug}/{map_index}.pickle"  # unchanged
    assert result.exists("etl/load-1/3.pickle")
    assert result.exists("{flow_name}/x.pickle", flow_name="etl") is False
    assert result.read("etl/load-1/3.pickle").value == {"rows": [1, 2]}


def test_callable_location_and_default_location(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location=lambda **kw: f"by-{kw['who']}.bin")
    assert result.write(1, who="me").location == "by-me.bin"
    anonymous = LocalResult(dir=tmp_path).write(2, task_slug="t-1")
    assert str(anonymous.location).startswith("t-1/") and str(anonymous.location).endswith(
        ".pickle"
    )
    assert LocalResult(dir=tmp_path).read(str(anonymous.location)).value == 2


def test_default_directory_comes_from_config() -> None:
    assert LocalResult().dir == Path(config.flows.results_dir).expanduser().absolute()


def test_missing_template_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ResultError, match=r"missing_key"):
        LocalResult(dir=tmp_path, location="{missing_key}.pickle").write(1)


def test_reading_a_missing_result_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ResultError, match=r"nope.pickle"):
        LocalResult(dir=tmp_path).read("nope.pickle")


def test_serializers(tmp_path: Path) -> None:
    pickled = PickleSerializer()
    assert pickled.deserialize(pickled.serialize(lambda: 5))() == 5  # cloudpickle
    js = JSONSerializer()
    assert js.serialize({"a": [1]}) == b'{"a": [1]}'
    assert js.deserialize(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(ResultError, match=r"set"):
        js.serialize({1, 2})
    with pytest.raises(ResultError, match=r"lock"):
        pickled.serialize(threading.Lock())
    with pytest.raises(TypeError, match=r"Serializer"):
        LocalResult(dir=tmp_path, serializer="json")  # type: ignore[arg-type]
    assert Result().to_dict()["serializer"].endswith(":PickleSerializer")


def test_plain_values_pickle_exactly_as_cloudpickle_writes_them() -> None:
    import cloudpickle

    pickled = PickleSerializer()
    for value in (0, -(10**40), 2.5, 1j, "text", b"bytes", True, None):
        assert pickled.serialize(value) == cloudpickle.dumps(value)
        assert pickled.deserialize(pickled.serialize(value)) == value

    class Local(int):  # a subclass is not plain: cloudpickle carries the class by value
        pass

    assert pickled.deserialize(pickled.serialize(Local(3))) == 3


def test_json_result_files_are_readable(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path, location="v.json", serializer=JSONSerializer()).write([1, "a"])
    assert (tmp_path / "v.json").read_text() == '[1, "a"]'


@task
def make_rows(n: int) -> list[int]:
    return list(range(n))


@task
def make_lock() -> Any:
    return threading.Lock()


def test_checkpoint_true_writes_every_result(executor: Any, tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{flow_name}/{task_name}-{map_index}.pickle")
    with Flow("ckpt", result=result) as flow:
        rows = make_rows(3, task_args={"checkpoint": True})
        mapped = make_rows.map([1, 2], task_args={"checkpoint": True})
        not_saved = make_rows(1)  # checkpoint left to config, which is off
    state = flow.run(executor=executor)
    assert state.is_successful()
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["make_rows-0.pickle", "make_rows-1.pickle", "make_rows-None.pickle"]
    persisted = state.result[rows].persisted
    assert persisted is not None and persisted.location == "ckpt/make_rows-None.pickle"
    assert LocalResult(dir=tmp_path).read("ckpt/make_rows-1.pickle").value == [0, 1]
    assert state.result[not_saved].persisted is None
    assert all(c.persisted is not None for c in state.result[mapped].map_states)


def test_config_checkpointing_persists_tasks_with_a_result(
    executor: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with config.override(**{"flows.checkpointing": True}):
        with Flow("cfg", result=LocalResult(dir=tmp_path, location="{task_slug}.pickle")) as flow:
            saved = make_rows(2)
            skipped = make_rows(2, task_args={"checkpoint": False, "name": "not_me"})
        state = flow.run(executor=executor)
        assert (tmp_path / "make_rows-1.pickle").is_file()
        assert not (tmp_path / "not_me-1.pickle").exists()
        assert state.result[saved].persisted is not None
        assert state.result[skipped].persisted is None


def test_unpicklable_result_fails_the_task_naming_it(executor: Any, tmp_path: Path) -> None:
    with Flow("bad-result", result=LocalResult(dir=tmp_path)) as flow:
        t = make_lock(task_args={"checkpoint": True})
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed
    assert "make_lock" in st.message and "lock" in st.message
    assert isinstance(st.result, ResultError)
    assert not list(tmp_path.rglob("*.pickle"))  # nothing half-written


def test_persisted_value_is_read_back_lazily(executor: Any, tmp_path: Path) -> None:
    with Flow("lazy", result=LocalResult(dir=tmp_path, location="{task_slug}.pickle")) as flow:
        t = make_rows(4, task_args={"checkpoint": True})
    st = flow.run(executor=executor).result[t]
    assert st.persisted is not None
    rebuilt = s.Success("from the server", s.NOT_LOADED, persisted=st.persisted)
    assert rebuilt.result == [0, 1, 2, 3]


def test_unwritable_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ResultError, match=r"file"):
        LocalResult(dir=blocker, location="x.pickle").write(1)
    assert blocker.read_text() == "not a directory"  # existing data untouched


@task(checkpoint=True)
def shout(value: str, location: str) -> str:
    return f"{value} at {location}".upper()


def test_task_inputs_named_value_and_location_can_be_checkpointed(tmp_path: Path) -> None:
    # Result.write(value, /, **fmt) and exists(location, /, **fmt) take their first
    # argument positionally, so the task's own inputs of those names are only template keys.
    with Flow(
        "names", result=LocalResult(dir=tmp_path, location="{value}-{location}.pickle")
    ) as flow:
        out = shout("hi", "home")
    state = flow.run()
    assert state.is_successful(), state.result[out].message
    assert state.result[out].result == "HI AT HOME"
    assert LocalResult(dir=tmp_path).read("hi-home.pickle").value == "HI AT HOME"
