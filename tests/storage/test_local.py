"""Local storage: flow files with their writers' versions, scripts, and the errors of a
flow whose module is gone."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from pathlib import Path

import pytest

from headrace import Flow, task
from headrace.serialization import load_storage
from headrace.serialization.errors import FlowLoadError, HealthCheckError, StorageError
from headrace.storage import Local
from headrace.storage.flowfile import MAGIC
from support.flows import ROUNDTRIP_SCRIPT, load_roundtrip_flow


def flow_from_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Flow, str]:
    """A flow whose task lives in a module importable only from ``tmp_path``."""
    name = f"vanishing_{uuid.uuid4().hex[:8]}"
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / f"{name}.py").write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    module = __import__(name)
    flow = Flow("needs-a-module")
    flow.add_task(task(module.double, name="double"))
    flow.set_dependencies(flow.get_tasks(name="double")[0], keyword_tasks={"x": 21})
    return flow, name


def forget_module(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mods" / f"{name}.py").unlink()
    monkeypatch.delitem(sys.modules, name)


def test_flow_file_records_the_versions_that_wrote_it(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    location = storage.add_flow(load_roundtrip_flow())
    data = Path(location).read_bytes()
    assert data.startswith(MAGIC)
    header = json.loads(data[len(MAGIC) :].split(b"\n", 1)[0])
    assert header["flow_name"] == "roundtrip"
    assert header["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert {"headrace", "cloudpickle", "format"} <= set(header)


def test_default_directory_is_under_the_home_dir(_isolated_home: Path) -> None:
    storage = Local()
    location = storage.add_flow(Flow("home flow"))
    assert Path(location).parent == _isolated_home / "flows"
    assert Path(location).name == "home-flow.flow"


def test_missing_module_is_named_with_the_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, name = flow_from_module(tmp_path, monkeypatch)
    storage = Local(directory=tmp_path / "flows")
    location = storage.add_flow(flow)
    assert storage.get_flow(location).run().is_successful()
    forget_module(name, tmp_path, monkeypatch)
    with pytest.raises(FlowLoadError, match=f"needs module '{name}'.*") as info:
        storage.get_flow(location)
    assert info.value.missing_module == name
    assert "Local storage" in str(info.value) and location in str(info.value)
    assert isinstance(info.value, ImportError)


def test_build_fails_its_health_check_naming_the_missing_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, name = flow_from_module(tmp_path, monkeypatch)
    storage = Local(directory=tmp_path / "flows")
    location = storage.add_flow(flow)
    # The module is still importable here, but not in a fresh interpreter's path.
    (tmp_path / "mods" / f"{name}.py").unlink()
    with pytest.raises(HealthCheckError, match=f"'flow_loads'.*culprit: '{name}'") as info:
        storage.build()
    assert info.value.check == "flow_loads"
    assert info.value.culprit == name
    assert Path(location).is_file(), "a failed check keeps the stored flow"


def test_a_file_that_is_not_a_flow_file(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    location = storage.add_flow(Flow("x"))
    Path(location).write_bytes(b"garbage")
    with pytest.raises(FlowLoadError, match="is not a headrace flow file"):
        storage.get_flow(location)
    Path(location).unlink()
    with pytest.raises(FlowLoadError, match="cannot read flow file"):
        storage.get_flow(location)


def test_build_rewrites_flow_changes_made_after_adding(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    flow = Flow("grows")
    location = storage.add_flow(flow)
    flow.add_task(task(lambda: 1, name="late"))
    assert len(storage.get_flow(location).tasks) == 0
    storage.build()
    assert [t.name for t in storage.get_flow(location).tasks] == ["late"]


def test_stored_as_script(tmp_path: Path) -> None:
    storage = Local(stored_as_script=True, path=ROUNDTRIP_SCRIPT)
    assert storage.add_flow(load_roundtrip_flow()) == str(ROUNDTRIP_SCRIPT)
    assert storage.get_flow("roundtrip").run().is_successful()
    with pytest.raises(ValueError, match="needs path="):
        Local(stored_as_script=True)
    gone = Local(stored_as_script=True, path=tmp_path / "missing.py")
    with pytest.raises(StorageError, match=r"missing\.py.*does not exist"):
        gone.add_flow(Flow("x"))
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_for_headrace_tests\n")
    storage = Local(stored_as_script=True, path=broken)
    storage.flows["roundtrip"] = str(broken)
    with pytest.raises(FlowLoadError, match="no_such_module_for_headrace_tests"):
        storage.get_flow("roundtrip")


def test_path_holds_exactly_one_flow(tmp_path: Path) -> None:
    storage = Local(path=tmp_path / "one.flow")
    assert storage.add_flow(Flow("a")) == str(tmp_path / "one.flow")
    with pytest.raises(StorageError, match="holds one flow"):
        storage.add_flow(Flow("b"))
    assert storage.get_flow().name == "a"


def test_labels_and_secrets_serialize_by_name(tmp_path: Path) -> None:
    storage = Local(
        directory=tmp_path,
        labels=["b", "a", "a"],
        secrets=["DB_PASSWORD"],
        add_default_labels=False,
        host="host-a",
    )
    doc = storage.serialize()
    assert doc == {
        "type": "headrace.storage.local:Local",
        "labels": ["a", "b"],
        "secrets": ["DB_PASSWORD"],
        "directory": str(tmp_path),
        "stored_as_script": False,
        "path": None,
        "host": "host-a",
        "add_default_labels": False,
        "flows": {},
    }
    with pytest.raises(TypeError, match="labels must be a list"):
        Local(directory=tmp_path, labels="abc")  # type: ignore[arg-type]


def test_local_storage_is_labelled_with_its_host_unless_told_not_to(tmp_path: Path) -> None:
    here = socket.gethostname()
    assert Local(directory=tmp_path, labels=["x"]).labels == sorted({"x", here})
    assert Local(directory=tmp_path, add_default_labels=False).labels == []
    # rebuilt elsewhere, it keeps the host it was made on (and only that host's label)
    doc = Local(directory=tmp_path, host="host-a").serialize()
    rebuilt = load_storage(doc)
    assert isinstance(rebuilt, Local)
    assert rebuilt.host == "host-a" and rebuilt.labels == ["host-a"]


def test_a_flow_of_another_host_fails_saying_where_it_lives_and_what_to_use(
    tmp_path: Path,
) -> None:
    storage = Local(directory=tmp_path / "elsewhere", host="host-a")
    storage.flows["f"] = str(tmp_path / "elsewhere" / "f.flow")  # a file only host-a has
    with pytest.raises(FlowLoadError) as caught:
        storage.get_flow("f")
    text = str(caught.value)
    assert "host 'host-a'" in text and f"not on this host ({socket.gethostname()})" in text
    assert "FileSystem" in text and "Git" in text and "Docker" in text
