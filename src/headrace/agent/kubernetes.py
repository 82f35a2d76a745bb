"""``KubernetesAgent``: each flow run as a Kubernetes Job.

The Job is built from the run config (``KubernetesRun``: image, ``job_template``, CPU and
memory requests, env) with the official ``kubernetes`` client's models, so a template with a
misspelt field or without a required one fails here, naming it, rather than in the cluster.
The flow's container (the one named ``flow``, else the first) runs ``python -m headrace execute
flow-run`` with the run's environment; the Job never restarts its pod (``backoffLimit: 0``,
``restartPolicy: Never``: retries are the server's business) and is garbage-collected
``agent.kubernetes_ttl`` seconds after it ends.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import DeploymentFailedError, InvalidJobTemplateError

__all__ = ["JobHandle", "KubernetesAgent", "job_manifest"]

DEFAULT_TEMPLATE: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {},
    "spec": {"template": {"spec": {"containers": [{"name": "flow"}]}}},
}


class _Answer:
    """What older clients' ``ApiClient.deserialize`` reads: an HTTP answer's ``data``."""

    def __init__(self, data: Any) -> None:
        self.data = json.dumps(data)


def _to_model(api: Any, data: dict[str, Any], kind: str) -> Any:
    """``data`` (a manifest) as the client's model ``kind``, checked field by field."""
    import inspect

    if "content_type" in inspect.signature(api.deserialize).parameters:
        return api.deserialize(json.dumps(data), kind, "application/json")
    return api.deserialize(_Answer(data), kind)


def _template(run_config: dict[str, Any]) -> dict[str, Any]:
    template = run_config.get("job_template")
    if template is None:
        return copy.deepcopy(DEFAULT_TEMPLATE)
    if isinstance(template, str):
        text = Path(template).read_text()
        try:
            template = json.loads(text)
        except ValueError:
            import yaml

            template = yaml.safe_load(text)
    return copy.deepcopy(dict(template))


def _dns_label(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")


def job_manifest(
    run: dict[str, Any], image: str, env: dict[str, str], namespace: str = "default", ttl: int = 600
) -> dict[str, Any]:
    """The Job manifest (a plain dict, as the API takes it) that runs flow run ``run``."""
    from kubernetes import client as k8s

    api = k8s.ApiClient()
    config = run.get("run_config") or {}
    template = _template(config)
    template.setdefault("apiVersion", "batch/v1")
    template.setdefault("kind", "Job")
    pod_spec = template.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    if not pod_spec.get("containers"):
        pod_spec["containers"] = [{"name": "flow"}]
    try:
        job: Any = _to_model(api, template, "V1Job")
    except (TypeError, ValueError) as exc:
        raise InvalidJobTemplateError(
            f"flow run {run['id']}: the job template is not a valid Job: {exc}"
        ) from exc
    job.metadata = job.metadata or k8s.V1ObjectMeta()
    job.metadata.name = _dns_label(f"headrace-{run['name']}")[:54].rstrip("-") + "-" + run["id"][:8]
    job.metadata.namespace = namespace
    labels = {"app.kubernetes.io/managed-by": "headrace", "headrace.io/flow-run-id": run["id"]}
    job.metadata.labels = {**(job.metadata.labels or {}), **labels}
    job.spec = job.spec or k8s.V1JobSpec(template=k8s.V1PodTemplateSpec())
    job.spec.backoff_limit = 0
    job.spec.ttl_seconds_after_finished = ttl
    pod = job.spec.template
    pod.metadata = pod.metadata or k8s.V1ObjectMeta()
    pod.metadata.labels = {**(pod.metadata.labels or {}), **labels}
    pod.spec = pod.spec or k8s.V1PodSpec(containers=[])
    pod.spec.restart_policy = "Never"
    grace = env.get("HEADRACE__AGENT__STOP_GRACE_PERIOD")
    if grace is not None and pod.spec.termination_grace_period_seconds is None:
        # a stopped run's pod has as long to end itself as a local run's process
        pod.spec.termination_grace_period_seconds = math.ceil(float(grace))
    containers = pod.spec.containers or []
    flow = next((c for c in containers if c.name == "flow"), containers[0] if containers else None)
    if flow is None:
        flow = k8s.V1Container(name="flow")
        containers.append(flow)
    pod.spec.containers = containers
    flow.image = image
    flow.command = ["python", "-m", "headrace", "execute", "flow-run", "--id", run["id"]]
    given = {e.name: e for e in (flow.env or [])}
    for name, value in env.items():
        given[name] = k8s.V1EnvVar(name=name, value=value)
    flow.env = list(given.values())
    requests = {
        key: config[field]
        for key, field in (("cpu", "cpu_request"), ("memory", "memory_request"))
        if config.get(field) is not None
    }
    if requests:
        flow.resources = flow.resources or k8s.V1ResourceRequirements()
        flow.resources.requests = {**(flow.resources.requests or {}), **requests}
    manifest: dict[str, Any] = api.sanitize_for_serialization(job)
    unknown = _dropped(template, manifest)
    if unknown:
        raise InvalidJobTemplateError(
            f"flow run {run['id']}: the job template has field(s) a Kubernetes Job does not: "
            f"{', '.join(unknown)}"
        )
    return manifest


def _dropped(given: Any, kept: Any, where: str = "") -> list[str]:
    """Paths of ``given`` (a template) that the model dropped: fields it does not know."""
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return []
        missing = []
        for key, value in given.items():
            path = f"{where}.{key}" if where else str(key)
            if key not in kept:
                if value is not None:
                    missing.append(path)
            else:
                missing.extend(_dropped(value, kept[key], path))
        return missing
    if isinstance(given, list) and isinstance(kept, list):
        return [
            p
            for i, (a, b) in enumerate(zip(given, kept, strict=False))
            for p in _dropped(a, b, f"{where}[{i}]")
        ]
    return []


class JobHandle(RunHandle):
    """A flow run's Job: ended when it has succeeded or failed pods, or once it is gone
    after :meth:`terminate` deleted it."""

    def __init__(self, flow_run_id: str, batch: Any, name: str, namespace: str) -> None:
        super().__init__(flow_run_id)
        self.batch, self.name, self.namespace = batch, name, namespace
        self.deleted = False

    def poll(self) -> int | None:
        try:
            status = self.batch.read_namespaced_job_status(self.name, self.namespace).status
        except Exception:
            if self.deleted:  # gone: its pods were stopped (SIGTERM, then their grace)
                return -15
            raise
        if status.succeeded:
            return 0
        if status.failed:
            return 1
        return None

    def stop(self) -> None:
        self.cleanup()

    def terminate(self) -> None:
        """Delete the Job in the foreground: Kubernetes sends its pods SIGTERM (the run
        stops itself), kills them after their ``terminationGracePeriodSeconds``, and the Job
        stays visible until they are gone."""
        self.deleted = True
        try:
            self.batch.delete_namespaced_job(
                self.name, self.namespace, propagation_policy="Foreground"
            )
        except Exception:
            pass

    def kill(self) -> None:
        """Nothing more to do: Kubernetes kills the pods of the deleted Job itself."""

    def cleanup(self) -> None:
        self.deleted = True
        try:
            self.batch.delete_namespaced_job(
                self.name, self.namespace, propagation_policy="Background"
            )
        except Exception:
            pass


class KubernetesAgent(Agent):
    """Runs flow runs as Jobs in ``namespace`` of the cluster the kube config (or the pod's
    service account) points at."""

    agent_type = "kubernetes"

    def __init__(
        self,
        *args: Any,
        namespace: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        ttl: int = 600,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        from headrace.configuration import config

        agent = config.get("agent", {})
        self.namespace = namespace or agent.get("kubernetes_namespace") or "default"
        self.image = image or agent.get("docker_image") or None
        self.env = dict(env or {})
        self.ttl = ttl
        self._batch: Any = None

    @property
    def batch(self) -> Any:
        if self._batch is None:
            from headrace.utilities.extras import require_extra

            require_extra("kubernetes", "kubernetes", "the Kubernetes agent")
            from kubernetes import client as k8s
            from kubernetes import config as kube_config

            try:
                kube_config.load_incluster_config()
            except kube_config.ConfigException:
                try:
                    kube_config.load_kube_config()
                except Exception as exc:
                    raise DeploymentFailedError(
                        f"KubernetesAgent: no cluster configuration (in-cluster or kube "
                        f"config): {exc}"
                    ) from exc
            self._batch = k8s.BatchV1Api()
        return self._batch

    def image_for(self, run: dict[str, Any]) -> str:
        from headrace.agent.docker import DockerAgent

        return DockerAgent.image_for(self, run)  # type: ignore[arg-type]

    def manifest(self, run: dict[str, Any]) -> dict[str, Any]:
        env = {**self.env, **self.run_environment(run)}
        return job_manifest(run, self.image_for(run), env, self.namespace, self.ttl)

    def deploy_flow(self, run: dict[str, Any]) -> RunHandle:
        manifest = self.manifest(run)
        self.batch.create_namespaced_job(self.namespace, manifest)
        return JobHandle(run["id"], self.batch, manifest["metadata"]["name"], self.namespace)
