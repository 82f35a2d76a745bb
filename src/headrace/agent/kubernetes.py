"""``KubernetesAgent``: each flow run as a Kubernetes Job.

The Job is built from the run config (``KubernetesRun``: image, ``job_template``, CPU and
memory requests, env) with the official ``kubernetes`` client's models, so a template with a
misspelt field or without a required one fails here, naming it, rather than in the cluster.
The flow's container (the one named ``flow``, else the first) runs ``python -m headrace execute
flow-run`` with the run's environment; the Job never restarts its pod (``backoffLimit: 0``,
``restartPolicy: Never``: retries are the server's business) and is garbage-collected
``agent.kubernetes_ttl`` seconds after it ends.

Hardening: the API key never appears in the Job as a plain value (anyone who can read Jobs
could read it); the container reads it from the Kubernetes Secret
``agent.kubernetes_api_key_secret`` (key ``api-key``), which the operator creates. The
pod runs as the run config's ``service_account_name`` or ``agent.kubernetes_service_account``;
a ``KubernetesRun(timeout=...)`` is the Job's ``activeDeadlineSeconds``. While the Job runs,
the agent reads its pods: one that cannot pull its image or be scheduled fails the run with
that reason (:mod:`~headrace.agent.kubernetes_pods`). An agent whose API URL is a loopback
address warns: pods cannot reach it.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import DeploymentFailedError, InvalidJobTemplateError
from headrace.agent.kubernetes_pods import stuck_reason

__all__ = ["API_KEY_SECRET_KEY", "JobHandle", "KubernetesAgent", "is_loopback", "job_manifest"]

API_KEY_SECRET_KEY = "api-key"
"""The key of the API key in the agent's Kubernetes Secret."""

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


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlparse(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def job_manifest(
    run: dict[str, Any],
    image: str,
    env: dict[str, str],
    namespace: str = "default",
    ttl: int = 600,
    *,
    api_key_secret: str | None = None,
    service_account: str | None = None,
) -> dict[str, Any]:
    """The Job manifest (a plain dict, as the API takes it) that runs flow run ``run``.

    With ``api_key_secret``, ``HEADRACE__API__KEY`` is read from that Secret (key
    ``api-key``), never written into the Job; ``service_account`` is the pod's unless the
    run config names one; the run config's ``timeout`` is ``activeDeadlineSeconds``."""
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
    if config.get("timeout"):
        job.spec.active_deadline_seconds = int(config["timeout"])
    pod = job.spec.template
    pod.metadata = pod.metadata or k8s.V1ObjectMeta()
    pod.metadata.labels = {**(pod.metadata.labels or {}), **labels}
    pod.spec = pod.spec or k8s.V1PodSpec(containers=[])
    pod.spec.restart_policy = "Never"
    account = config.get("service_account_name") or service_account
    if account:
        pod.spec.service_account_name = account
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
    if api_key_secret and "HEADRACE__API__KEY" in given:
        given["HEADRACE__API__KEY"] = k8s.V1EnvVar(
            name="HEADRACE__API__KEY",
            value_from=k8s.V1EnvVarSource(
                secret_key_ref=k8s.V1SecretKeySelector(name=api_key_secret, key=API_KEY_SECRET_KEY)
            ),
        )
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

    def __init__(
        self,
        flow_run_id: str,
        batch: Any,
        name: str,
        namespace: str,
        core: Any = None,
        pending_grace: float = 120.0,
    ) -> None:
        super().__init__(flow_run_id)
        self.batch, self.name, self.namespace = batch, name, namespace
        self.core = core
        self.pending_grace = pending_grace
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
            for condition in status.conditions or []:  # e.g. DeadlineExceeded (the timeout)
                if condition.type == "Failed" and condition.reason:
                    self.output.append(f"Job {self.name} failed: {condition.reason}")
            return 1
        reason = self.stuck()
        if reason is not None:  # a pod that will never start: fail the run now, with why
            self.output.append(reason)
            self.cleanup()
            return 1
        return None

    def stuck(self) -> str | None:
        """Why the Job's pod cannot start, if it cannot (see :func:`stuck_reason`)."""
        if self.core is None:
            return None
        try:
            pods = self.core.list_namespaced_pod(
                self.namespace, label_selector=f"headrace.io/flow-run-id={self.flow_run_id}"
            ).items
        except Exception:
            return None
        return stuck_reason(list(pods or []), pending_grace=self.pending_grace)

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
        #: The Secret (key ``api-key``) the pods read the API key from.
        self.api_key_secret = str(agent.get("kubernetes_api_key_secret") or "headrace-api-key")
        self.service_account = agent.get("kubernetes_service_account") or None
        self.pending_grace = float(agent.get("kubernetes_pending_grace", 120.0))
        self._batch: Any = None
        self._core: Any = None
        if is_loopback(self.api_url):
            self.logger.warning(
                "kubernetes agent %s: its API URL %s is a loopback address, which the flow "
                "runs' pods cannot reach; start it with --api set to an address the cluster "
                "can reach (HEADRACE__API__URL)",
                self.name,
                self.api_url,
            )

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

    @property
    def core(self) -> Any:
        """The CoreV1Api (pods), configured as :attr:`batch` is."""
        if self._core is None:
            from kubernetes import client as k8s

            _ = self.batch  # loads the configuration
            self._core = k8s.CoreV1Api()
        return self._core

    def image_for(self, run: dict[str, Any]) -> str:
        from headrace.agent.docker import DockerAgent

        return DockerAgent.image_for(self, run)  # type: ignore[arg-type]

    def manifest(self, run: dict[str, Any]) -> dict[str, Any]:
        env = {**self.env, **self.run_environment(run)}
        return job_manifest(
            run,
            self.image_for(run),
            env,
            self.namespace,
            self.ttl,
            api_key_secret=self.api_key_secret,
            service_account=self.service_account,
        )

    def deploy_flow(self, run: dict[str, Any]) -> RunHandle:
        manifest = self.manifest(run)
        self.batch.create_namespaced_job(self.namespace, manifest)
        return JobHandle(
            run["id"],
            self.batch,
            manifest["metadata"]["name"],
            self.namespace,
            core=self.core,
            pending_grace=self.pending_grace,
        )
