"""The storage conformance suite: every storage kind holds the round-trip flow (mapped
tasks, parameters), builds (health checks included), serializes to JSON, and the flow it
loads back — where it would run — runs to the same results as the original."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headrace import Flow
from headrace.serialization import load_storage
from headrace.serialization.errors import FlowNameClashError, FlowNotFoundError
from headrace.storage import Storage
from storage.kinds import KINDS, make_case
from support.flows import load_roundtrip_flow, outcome


def _marks(kind: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.docker] if kind == "docker" else []


PARAMS = [pytest.param(kind, marks=_marks(kind)) for kind in KINDS]


@pytest.mark.parametrize("kind", PARAMS)
def test_round_trip_runs_to_the_same_results(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case = make_case(kind, tmp_path, request)
    storage, flow = case.storage, case.flow
    location = storage.add_flow(flow)
    assert isinstance(location, str)
    assert location in storage
    assert flow.name in storage
    assert "no-such-location" not in storage
    assert storage.build() is storage
    assert storage.last_health_report, "the build ran the health checks"
    assert all(item["ok"] for item in storage.last_health_report)

    doc = storage.serialize()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["flows"] == {flow.name: location}
    assert doc["type"] == f"{type(storage).__module__}:{type(storage).__qualname__}"
    rebuilt = load_storage(doc)
    assert type(rebuilt) is type(storage)
    assert rebuilt.serialize() == doc

    expected = outcome(flow.run())
    assert expected == {"state": "Success", "total": 18, "square": [1, 2, 5, 10]}
    assert case.run_stored(doc, location, {}) == expected
    by_name = case.run_stored(doc, flow.name, {"n": 3, "offset": 0})
    assert by_name == outcome(flow.run(parameters={"n": 3, "offset": 0}))
    assert by_name["total"] == 0 + 1 + 4


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "docker"])
def test_a_name_clash_is_an_error_and_keeps_the_first_flow(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case = make_case(kind, tmp_path, request)
    storage = case.storage
    location = storage.add_flow(case.flow)
    with pytest.raises(FlowNameClashError, match="roundtrip"):
        storage.add_flow(load_roundtrip_flow("another_copy"))
    assert storage.flows == {"roundtrip": location}
    storage.build()
    assert case.run_stored(storage.serialize(), location, {})["total"] == 18


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "docker"])
def test_unknown_flow_is_named_in_the_error(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    storage: Storage = make_case(kind, tmp_path, request).storage
    storage.add_flow(load_roundtrip_flow())
    with pytest.raises(FlowNotFoundError, match=r"'elsewhere'.*roundtrip"):
        storage.get_flow("elsewhere")
    with pytest.raises(TypeError, match="needs a Flow"):
        storage.add_flow("not a flow")  # type: ignore[arg-type]


def test_several_flows_share_one_storage(tmp_path: Path) -> None:
    from headrace.storage import Local

    storage = Local(directory=tmp_path)
    first = load_roundtrip_flow()
    second = Flow("second")
    locations = {storage.add_flow(first), storage.add_flow(second)}
    assert len(locations) == 2
    assert set(storage.flows) == {"roundtrip", "second"}
    storage.build()
    rebuilt = load_storage(storage.serialize())
    assert rebuilt.get_flow("second").name == "second"
    assert rebuilt.get_flow("roundtrip").name == "roundtrip"
    with pytest.raises(FlowNotFoundError, match="name the flow"):
        rebuilt.get_flow()
