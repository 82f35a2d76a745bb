"""KubernetesAgent's Job manifests. No Kubernetes cluster can run on this machine, so these
tests check the generated manifests against the official ``kubernetes`` client's models
(the same ``ApiClient`` the agent sends them with): they deserialize into ``V1Job`` and
serialize back unchanged, carry the required fields, keep the user's template, and a
template with an unknown or missing required field is refused naming it. Creating the Job
against a cluster is the one part not exercised (the agent's failure without a cluster
configuration is, in the conformance suite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require

try:
    from kubernetes import client as k8s
except ImportError:  # pragma: no cover - CI installs the kubernetes extra
    k8s = None

from headrace.agent.errors import InvalidJobTemplateError
from headrace.agent.kubernetes import KubernetesAgent, job_manifest
from headrace.run_configs import KubernetesRun


@pytest.fixture(autouse=True)
def _needs_client() -> None:
    require("kubernetes client", k8s is not None, "pip install headrace[kubernetes]")


RUN = {"id": "3f2a9c4e-0000-4000-8000-000000000001", "name": "ETL_run #7", "flow_id": "f"}
ENV = {"HEADRACE__API__URL": "http://127.0.0.1:4200", "HEADRACE__CONTEXT__FLOW_RUN_ID": RUN["id"]}


def as_model(manifest: dict[str, Any]) -> Any:
    api = k8s.ApiClient()
    return api.deserialize(json.dumps(manifest), "V1Job", "application/json")


def run_with(run_config: KubernetesRun | None) -> dict[str, Any]:
    return {**RUN, "run_config": None if run_config is None else run_config.serialize()}


def test_default_manifest_is_a_valid_job() -> None:
    manifest = job_manifest(run_with(None), "registry.local/flows:1", ENV)
    job = as_model(manifest)
    assert k8s.ApiClient().sanitize_for_serialization(job) == manifest  # lossless round trip
    assert manifest["apiVersion"] == "batch/v1" and manifest["kind"] == "Job"
    name = manifest["metadata"]["name"]
    assert len(name) <= 63 and name == name.lower() and name.endswith(RUN["id"][:8])
    assert all(c.isalnum() or c == "-" for c in name)
    assert manifest["spec"]["backoffLimit"] == 0
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["name"] == "flow" and container["image"] == "registry.local/flows:1"
    assert container["command"][-4:] == ["execute", "flow-run", "--id", RUN["id"]]
    assert {e["name"]: e["value"] for e in container["env"]} == ENV
    labels = manifest["spec"]["template"]["metadata"]["labels"]
    assert labels["headrace.io/flow-run-id"] == RUN["id"]


def test_template_requests_and_env_are_merged() -> None:
    template = {
        "metadata": {"labels": {"team": "data"}},
        "spec": {
            "activeDeadlineSeconds": 3600,
            "template": {
                "spec": {
                    "serviceAccountName": "flows",
                    "nodeSelector": {"pool": "batch"},
                    "containers": [
                        {"name": "sidecar", "image": "busybox"},
                        {"name": "flow", "env": [{"name": "TEAM_SETTING", "value": "x"}]},
                    ],
                }
            },
        },
    }
    config = KubernetesRun(
        job_template=template, cpu_request="500m", memory_request="1Gi", env={"A": "1"}
    )
    manifest = job_manifest(run_with(config), "img:2", {**ENV, "A": "1"}, namespace="flows")
    as_model(manifest)
    assert manifest["metadata"]["namespace"] == "flows"
    assert manifest["metadata"]["labels"]["team"] == "data"
    assert manifest["spec"]["activeDeadlineSeconds"] == 3600
    pod = manifest["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "flows" and pod["nodeSelector"] == {"pool": "batch"}
    sidecar, flow = pod["containers"]
    assert sidecar == {"name": "sidecar", "image": "busybox"}
    assert flow["image"] == "img:2"
    assert flow["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    env = {e["name"]: e["value"] for e in flow["env"]}
    assert env["TEAM_SETTING"] == "x" and env["A"] == "1" and env["HEADRACE__API__URL"]


def test_template_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"spec": {"template": {"spec": {"priorityClassName": "low"}}}}))
    manifest = job_manifest(run_with(KubernetesRun(job_template=str(path))), "img:3", ENV)
    assert manifest["spec"]["template"]["spec"]["priorityClassName"] == "low"
    assert manifest["spec"]["template"]["spec"]["containers"][0]["image"] == "img:3"


def test_unknown_template_field_is_refused_by_name() -> None:
    bad = {"spec": {"template": {"spec": {"serviceAcountName": "typo", "containers": []}}}}
    with pytest.raises(InvalidJobTemplateError, match=r"spec\.template\.spec\.serviceAcountName"):
        job_manifest(run_with(KubernetesRun(job_template=bad)), "img", ENV)


def test_container_without_a_name_is_refused() -> None:
    bad = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    with pytest.raises(ValueError, match="name"):
        job_manifest(run_with(KubernetesRun(job_template=bad)), "img", ENV)


def test_agent_manifest_uses_run_config_image_and_agent_env() -> None:
    agent = KubernetesAgent(
        labels=["k8s"],
        api_url="http://127.0.0.1:9",
        namespace="ns",
        env={"EXTRA": "1"},
        stop_grace_period=7.5,
    )
    run = run_with(KubernetesRun(image="repo/flow:9", env={"FROM_RUN": "2"}))
    manifest = agent.manifest(run)
    as_model(manifest)
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "repo/flow:9"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["EXTRA"] == "1" and env["FROM_RUN"] == "2"
    assert env["HEADRACE__API__URL"] == "http://127.0.0.1:9"
    assert env["HEADRACE__CONTEXT__FLOW_RUN_ID"] == RUN["id"]
    assert manifest["metadata"]["namespace"] == "ns"
    # a cancelled or stopped run's pod gets the agent's grace period to end itself
    assert env["HEADRACE__AGENT__STOP_GRACE_PERIOD"] == "7.5"
    assert manifest["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 8
