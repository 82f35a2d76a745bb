"""Build-time health checks: each failure names its check and its culprit."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

from headrace import Flow, Parameter, task
from headrace.environments.execution import Environment
from headrace.serialization.errors import HealthCheckError, HealthCheckWarning
from headrace.storage import Local
from headrace.storage.healthcheck import check_flow, raise_for_report, run_checks
from support.flows import load_roundtrip_flow


class NeedsAMissingModule(Environment):
    @property
    def dependencies(self) -> list[str]:
        return ["json", "no_such_dependency_for_headrace"]


def test_every_dependency_must_import(tmp_path: Path) -> None:
    flow = load_roundtrip_flow()
    flow.environment = NeedsAMissingModule()
    storage = Local(directory=tmp_path)
    storage.add_flow(flow)
    with pytest.raises(HealthCheckError) as info:
        storage.build()
    assert info.value.check == "dependencies"
    assert info.value.culprit == "no_such_dependency_for_headrace"
    assert "NeedsAMissingModule needs module 'no_such_dependency_for_headrace'" in str(info.value)
    outcomes = {(r["check"], r["culprit"]): r["ok"] for r in info.value.report}
    assert outcomes[("dependencies", "json")] is True


def test_parameter_defaults_must_be_json(tmp_path: Path) -> None:
    flow = Flow("dated")
    flow.add_task(Parameter("when", default=datetime(2024, 1, 1)))
    storage = Local(directory=tmp_path)
    storage.add_flow(flow)
    with pytest.raises(HealthCheckError, match="parameter 'when' is not JSON") as info:
        storage.build()
    assert (info.value.check, info.value.culprit) == ("parameter_defaults", "when")


def test_python_version_must_match_the_registering_one(tmp_path: Path) -> None:
    storage = Local(directory=tmp_path)
    storage.add_flow(load_roundtrip_flow())
    here = "{}.{}".format(*sys.version_info[:2])
    report = run_checks(storage.serialize(), python_version="2.7")
    failed = [r for r in report if not r["ok"]]
    assert [(r["check"], r["culprit"]) for r in failed] == [("python_version", here)]
    with pytest.raises(HealthCheckError, match=r"registered with Python 2\.7") as info:
        raise_for_report(report, "test storage")
    assert info.value.check == "python_version"
    assert all(r["ok"] for r in run_checks(storage.serialize(), python_version=here))


def test_retries_over_unpersisted_results_warn(tmp_path: Path) -> None:
    with Flow("retrying") as flow:
        upstream = task(lambda: 1, name="source")()
        task(lambda x: x, name="flaky", max_retries=2, retry_delay=0)(upstream)
    storage = Local(directory=tmp_path)
    storage.add_flow(flow)
    with pytest.warns(HealthCheckWarning, match="task 'flaky' retries.*\\['source'\\]"):
        storage.build()
    warned = [r for r in storage.last_health_report if r.get("warning")]
    assert [(r["check"], r["culprit"]) for r in warned] == [("result_persistence", "flaky")]


def test_persisted_upstream_results_do_not_warn() -> None:
    from headrace.engine.results import LocalResult

    with Flow("persisted") as flow:
        upstream = task(lambda: 1, name="source", checkpoint=True, result=LocalResult())()
        task(lambda x: x, name="cached", cache_for=60)(upstream)
    assert not [r for r in check_flow(flow) if r.get("warning")]


def test_checks_can_be_skipped(tmp_path: Path) -> None:
    flow = Flow("dated")
    flow.add_task(Parameter("when", default=datetime(2024, 1, 1)))
    storage = Local(directory=tmp_path)
    storage.add_flow(flow)
    assert storage.build(run_health_checks=False) is storage
    assert storage.last_health_report == []
