"""KubernetesAgent hardening: the API key comes from a Secret (never a plain value in the
Job), a run's timeout is the Job's ``activeDeadlineSeconds``, the pod's service account is
set, a pod that cannot pull its image or be scheduled fails its run with that reason, and
an agent whose API URL is loopback warns.

No Kubernetes cluster can run on this machine: manifests are checked against the official
``kubernetes`` client's models (deserialized into ``V1Job``); pod states are the client's
own ``V1Pod`` models, and the Job/pod reads go through a small stand-in for the two API
calls the handle makes (``read_namespaced_job_status``, ``list_namespaced_pod``) that
answers with those models -- the stand-in is the only part not real.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import require

try:
    from kubernetes import client as k8s
except ImportError:  # pragma: no cover - CI installs the kubernetes extra
    k8s = None

from headrace.agent.kubernetes import JobHandle, KubernetesAgent, is_loopback, job_manifest
from headrace.agent.kubernetes_pods import stuck_reason
from headrace.run_configs import KubernetesRun

RUN = {"id": "3f2a9c4e-0000-4000-8000-000000000002", "name": "etl", "flow_id": "f"}
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _needs_client() -> None:
    require("kubernetes client", k8s is not None, "pip install headrace[kubernetes]")


def _job(manifest: dict[str, Any]) -> Any:
    return k8s.ApiClient().deserialize(json.dumps(manifest), "V1Job", "application/json")


def _run(config: KubernetesRun | None = None) -> dict[str, Any]:
    return {**RUN, "run_config": None if config is None else config.serialize()}


def test_the_api_key_is_read_from_a_secret_never_written_into_the_job() -> None:
    env = {"HEADRACE__API__URL": "http://headrace:4200", "HEADRACE__API__KEY": "hr_s3cr3t"}
    manifest = job_manifest(_run(), "img", env, api_key_secret="team-key")
    assert "hr_s3cr3t" not in json.dumps(manifest)
    (container,) = _job(manifest).spec.template.spec.containers
    key = next(e for e in container.env if e.name == "HEADRACE__API__KEY")
    assert key.value is None
    assert key.value_from.secret_key_ref.name == "team-key"
    assert key.value_from.secret_key_ref.key == "api-key"


def test_timeout_and_service_account_reach_the_job() -> None:
    config = KubernetesRun(timeout=900, service_account_name="flows")
    job = _job(job_manifest(_run(config), "img", {}, service_account="agent-default"))
    assert job.spec.active_deadline_seconds == 900
    assert job.spec.template.spec.service_account_name == "flows"
    plain = _job(job_manifest(_run(), "img", {}, service_account="agent-default"))
    assert plain.spec.active_deadline_seconds is None
    assert plain.spec.template.spec.service_account_name == "agent-default"
    with pytest.raises(ValueError, match="timeout"):
        KubernetesRun(timeout=0)


def test_the_agent_uses_its_secret_and_account_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = KubernetesAgent(api_url="http://headrace.example:4200", api_key="hr_agent_key")
    run = _run(KubernetesRun(image="repo/flow:1"))
    manifest = agent.manifest(run)
    assert "hr_agent_key" not in json.dumps(manifest)
    (container,) = _job(manifest).spec.template.spec.containers
    key = next(e for e in container.env if e.name == "HEADRACE__API__KEY")
    assert key.value_from.secret_key_ref.name == "headrace-api-key"


def _pod(
    phase: str = "Pending",
    waiting: str | None = None,
    unschedulable: bool = False,
    age: float = 10.0,
) -> Any:
    statuses = None
    if waiting is not None:
        statuses = [
            k8s.V1ContainerStatus(
                name="flow",
                image="repo/missing:1",
                image_id="",
                ready=False,
                restart_count=0,
                state=k8s.V1ContainerState(
                    waiting=k8s.V1ContainerStateWaiting(reason=waiting, message="not found")
                ),
            )
        ]
    conditions = (
        [
            k8s.V1PodCondition(
                type="PodScheduled",
                status="False",
                reason="Unschedulable",
                message="0/3 nodes are available: 3 Insufficient memory.",
            )
        ]
        if unschedulable
        else None
    )
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="etl-pod", creation_timestamp=NOW - timedelta(seconds=age)),
        status=k8s.V1PodStatus(phase=phase, container_statuses=statuses, conditions=conditions),
    )


def test_stuck_pods_are_named_with_their_reason() -> None:
    assert stuck_reason([_pod()], NOW) is None  # just created: may still start
    assert stuck_reason([_pod(phase="Running")], NOW, pending_grace=0) is None
    pulled = stuck_reason([_pod(waiting="ImagePullBackOff")], NOW)
    assert pulled is not None and "ImagePullBackOff" in pulled and "'flow'" in pulled
    assert stuck_reason([_pod(unschedulable=True, age=30)], NOW, pending_grace=60) is None
    late = stuck_reason([_pod(unschedulable=True, age=300)], NOW, pending_grace=60)
    assert late is not None and "Unschedulable" in late and "Insufficient memory" in late


class _Cluster:
    """Stand-in for the two reads a JobHandle makes, answering with the client's models."""

    def __init__(self, pods: list[Any]) -> None:
        self.pods = pods
        self.deleted: list[str] = []

    def read_namespaced_job_status(self, name: str, namespace: str) -> Any:
        return k8s.V1Job(status=k8s.V1JobStatus(active=1))

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        assert label_selector == f"headrace.io/flow-run-id={RUN['id']}"
        return k8s.V1PodList(items=self.pods)

    def delete_namespaced_job(self, name: str, namespace: str, **kwargs: Any) -> None:
        self.deleted.append(name)


def test_a_pod_that_cannot_pull_its_image_fails_the_run_with_the_reason() -> None:
    cluster = _Cluster([_pod(waiting="ErrImagePull")])
    handle = JobHandle(RUN["id"], cluster, "etl-job", "ns", core=cluster)
    assert handle.poll() == 1
    assert "ErrImagePull" in handle.last_output()
    assert cluster.deleted == ["etl-job"]
    healthy = _Cluster([_pod(phase="Running")])
    assert JobHandle(RUN["id"], healthy, "etl-job", "ns", core=healthy).poll() is None


def test_a_loopback_api_url_warns(caplog: pytest.LogCaptureFixture) -> None:
    assert is_loopback("http://127.0.0.1:4200") and is_loopback("http://localhost:4200")
    assert is_loopback("http://[::1]:4200") and not is_loopback("http://headrace.svc:4200")
    logger = logging.getLogger("headrace.agent.kubernetes")
    logger.addHandler(caplog.handler)
    try:
        KubernetesAgent(api_url="http://127.0.0.1:4200")
        KubernetesAgent(api_url="http://headrace.svc:4200")
    finally:
        logger.removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if "loopback" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1:4200" in warnings[0]
