"""The flow document: versioned plain JSON with the graph and the deployment settings;
its hash follows every change; loaders reject what they cannot read, clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from headrace import Flow, Parameter, task
from headrace.environments.execution import DaskEnvironment, LocalEnvironment
from headrace.run_configs import DockerRun
from headrace.schedules import IntervalSchedule
from headrace.serialization import (
    FLOW_DOCUMENT_VERSION,
    load_flow_document,
    serialize_flow,
)
from headrace.serialization.errors import SerializationError, UnsupportedVersionError
from headrace.storage import Local
from headrace.triggers import any_failed
from support.flows import load_roundtrip_flow


def test_document_keys_and_graph() -> None:
    flow = load_roundtrip_flow()
    doc = flow.serialize()
    assert set(doc) == {
        "version",
        "name",
        "tasks",
        "parameters",
        "edges",
        "reference_tasks",
        "schedule",
        "environment",
        "storage",
        "run_config",
    }
    assert doc["version"] == FLOW_DOCUMENT_VERSION == 1
    assert json.loads(json.dumps(doc)) == doc
    tasks = {t["slug"]: t for t in doc["tasks"]}
    assert set(tasks) == {"n", "offset", "numbers-1", "square-1", "total-1"}
    assert tasks["square-1"]["mapped"] is True
    assert tasks["total-1"]["mapped"] is False
    assert tasks["n"]["type"] == "headrace.core.parameter:Parameter"
    assert tasks["square-1"]["type"] == "headrace.core.task:FunctionTask"
    assert doc["parameters"] == [
        {"name": "n", "slug": "n", "default": 4, "required": False},
        {"name": "offset", "slug": "offset", "default": 1, "required": False},
    ]
    edges = {(e["upstream"], e["downstream"]): e for e in doc["edges"]}
    assert edges[("numbers-1", "square-1")] == {
        "upstream": "numbers-1",
        "downstream": "square-1",
        "key": "x",
        "mapped": True,
        "flattened": False,
    }
    assert edges[("offset", "square-1")]["mapped"] is False
    assert doc["reference_tasks"] == ["total-1"]
    assert doc["environment"] == {
        "type": "headrace.environments.execution.local:LocalEnvironment",
        "labels": [],
        "metadata": {},
    }
    assert doc["schedule"] is None and doc["storage"] is None and doc["run_config"] is None


def test_task_settings_are_recorded() -> None:
    flow = Flow("settings")
    t = task(
        lambda: 1,
        name="careful",
        max_retries=3,
        retry_delay=timedelta(seconds=2),
        timeout=9,
        trigger=any_failed,
        tags=["b", "a"],
        cache_for=60,
        cache_key="shared",
    )
    flow.add_task(t)
    flow.add_task(Parameter("needed"))
    doc = flow.serialize()
    (entry,) = [x for x in doc["tasks"] if x["name"] == "careful"]
    assert entry["max_retries"] == 3
    assert entry["retry_delay"] == 2.0
    assert entry["timeout"] == 9.0
    assert entry["trigger"] == "headrace.triggers:any_failed"
    assert entry["tags"] == ["a", "b"]
    assert (entry["cache_for"], entry["cache_key"]) == (60.0, "shared")
    assert doc["parameters"] == [
        {"name": "needed", "slug": "needed", "default": None, "required": True}
    ]


def test_deployment_settings_are_included(tmp_path: Path) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    flow = load_roundtrip_flow()
    flow.schedule = IntervalSchedule(start_date=start, interval=timedelta(hours=1))
    flow.environment = DaskEnvironment(labels=["gpu"], metadata={"owner": "x"})
    flow.storage = Local(directory=tmp_path)
    flow.run_config = DockerRun(image="repo/img:1", labels=["docker"])
    doc = serialize_flow(flow)
    assert doc["schedule"] == flow.schedule.serialize()
    assert doc["environment"]["labels"] == ["gpu"]
    assert doc["storage"]["type"] == "headrace.storage.local:Local"
    assert doc["run_config"]["image"] == "repo/img:1"
    loaded = load_flow_document(json.loads(json.dumps(doc)))
    assert loaded.schedule == flow.schedule
    assert isinstance(loaded.environment, DaskEnvironment)
    assert loaded.environment.metadata == {"owner": "x"}
    assert loaded.storage is not None and loaded.storage.serialize() == doc["storage"]
    assert loaded.run_config == flow.run_config
    assert "cloudpickle" not in json.dumps(doc) and "\\x80" not in json.dumps(doc)


def test_build_true_stores_and_builds_first(tmp_path: Path) -> None:
    flow = load_roundtrip_flow()
    flow.storage = Local(directory=tmp_path)
    doc = flow.serialize(build=True)
    location = doc["storage"]["flows"]["roundtrip"]
    assert Path(location).is_file()
    assert flow.storage.get_flow(location).run().is_successful()
    assert flow.serialize(build=True)["storage"]["flows"] == {"roundtrip": location}
    with pytest.raises(SerializationError, match="build=True needs a storage"):
        Flow("bare").serialize(build=True)


def test_hash_follows_graph_and_configuration(tmp_path: Path) -> None:
    flow = load_roundtrip_flow()
    first = flow.serialized_hash()
    assert first == load_roundtrip_flow().serialized_hash() == flow.serialized_hash()
    assert len(first) == 64
    seen = {first}

    def changed() -> None:
        new = flow.serialized_hash()
        assert new not in seen
        seen.add(new)

    flow.add_task(task(lambda: None, name="extra"))
    changed()
    flow.environment = LocalEnvironment(labels=["a"])
    changed()
    flow.storage = Local(directory=tmp_path)
    changed()
    flow.run_config = DockerRun()
    changed()
    flow.schedule = IntervalSchedule(
        start_date=datetime(2024, 1, 1, tzinfo=UTC), interval=timedelta(minutes=5)
    )
    changed()
    (extra,) = flow.get_tasks(name="extra")
    extra.max_retries = 2
    changed()


def test_non_json_parameter_default_is_named() -> None:
    flow = Flow("bad default")
    flow.add_task(Parameter("when", default=datetime(2024, 1, 1)))
    with pytest.raises(SerializationError, match="default of parameter 'when'"):
        flow.serialize()


def test_unknown_versions_and_malformed_documents_are_rejected() -> None:
    doc = load_roundtrip_flow().serialize()
    for version in (2, None, "1"):
        with pytest.raises(UnsupportedVersionError, match=f"version {version!r}.*\\[1\\]"):
            load_flow_document({**doc, "version": version})
    with pytest.raises(SerializationError, match="lacks \\['tasks'\\]"):
        load_flow_document({k: v for k, v in doc.items() if k != "tasks"})
    with pytest.raises(SerializationError, match="edge upstream 'ghost-1' is not a task"):
        load_flow_document({**doc, "edges": [{"upstream": "ghost-1", "downstream": "n"}]})
    with pytest.raises(SerializationError, match="must be an object"):
        load_flow_document([doc])
