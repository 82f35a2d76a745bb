"""Module storage: flows found by importing a module (or one attribute of it)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from headrace.serialization import load_storage
from headrace.serialization.errors import FlowLoadError
from headrace.storage import Module

SOURCE = """
from headrace import Flow, task

@task
def hello():
    return "hi"

with Flow("first") as first:
    hello()

second = Flow("second")
not_a_flow = 3
"""


@pytest.fixture
def module_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"flows_mod_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_module_attr_and_name_lookup(module_name: str) -> None:
    assert Module(f"{module_name}:second").get_flow().name == "second"
    storage = Module(module_name)
    with pytest.raises(FlowLoadError, match="defines 2 flows"):
        storage.get_flow()
    from headrace import Flow

    storage.add_flow(Flow("first"))
    rebuilt = load_storage(storage.serialize())
    assert rebuilt.serialize()["module"] == module_name
    state = rebuilt.get_flow("first").run()
    assert [s.result for s in state.result.values()] == ["hi"]


def test_missing_module_and_bad_attribute(module_name: str) -> None:
    with pytest.raises(FlowLoadError, match="module 'nowhere_at_all' cannot be imported") as info:
        Module("nowhere_at_all.flows").get_flow()
    assert info.value.missing_module == "nowhere_at_all"
    with pytest.raises(FlowLoadError, match="'not_a_flow' is not a Flow"):
        Module(f"{module_name}:not_a_flow").get_flow()
    with pytest.raises(ValueError, match=r"package\.module"):
        Module(":attr")
