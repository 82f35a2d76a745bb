"""The run configs of each kind of agent: local processes, Docker containers, Kubernetes
jobs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from headrace.run_configs.base import RunConfig

__all__ = ["DockerRun", "KubernetesRun", "LocalRun"]


class LocalRun(RunConfig):
    """A run in a process on the agent's machine, in ``working_dir`` if given."""

    serialized_fields = ("working_dir",)

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        working_dir: str | os.PathLike[str] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(labels=labels, env=env)
        self.working_dir = os.fspath(working_dir) if working_dir is not None else None


class DockerRun(RunConfig):
    """A run in a container of ``image`` (default: the image of the flow's Docker storage)."""

    serialized_fields = ("image",)

    def __init__(
        self,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(labels=labels, env=env)
        if image is not None and (not isinstance(image, str) or not image):
            raise TypeError(f"DockerRun: image must be an image reference, not {image!r}")
        self.image = image


def _quantity(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"KubernetesRun: {what} must be a quantity like '500m' or '1Gi'")
    return str(value)


class KubernetesRun(RunConfig):
    """A run as a Kubernetes job of ``image``. ``job_template`` is a job manifest (a dict,
    or the path/URL of a YAML or JSON file) the agent fills in; the requests set the flow
    container's resources; ``service_account_name`` is the pod's service account (default:
    the agent's ``agent.kubernetes_service_account``); ``timeout`` (seconds) becomes the
    Job's ``activeDeadlineSeconds``: Kubernetes stops a run that takes longer."""

    serialized_fields = (
        "image",
        "job_template",
        "cpu_request",
        "memory_request",
        "service_account_name",
        "timeout",
    )

    def __init__(
        self,
        image: str | None = None,
        job_template: Mapping[str, Any] | str | None = None,
        cpu_request: str | float | None = None,
        memory_request: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Iterable[str] | None = None,
        service_account_name: str | None = None,
        timeout: int | None = None,
    ) -> None:
        super().__init__(labels=labels, env=env)
        if image is not None and (not isinstance(image, str) or not image):
            raise TypeError(f"KubernetesRun: image must be an image reference, not {image!r}")
        if service_account_name is not None and not isinstance(service_account_name, str):
            raise TypeError("KubernetesRun: service_account_name must be a string")
        self.service_account_name = service_account_name or None
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0
        ):
            raise ValueError(
                f"KubernetesRun: timeout must be a positive number of seconds, not {timeout!r}"
            )
        self.timeout = timeout
        self.image = image
        if job_template is not None and not isinstance(job_template, Mapping | str):
            raise TypeError("KubernetesRun: job_template must be a dict or a path")
        if isinstance(job_template, Mapping):
            template: dict[str, Any] = json.loads(json.dumps(dict(job_template)))
            if template.get("kind", "Job") != "Job":
                raise ValueError(
                    f"KubernetesRun: job_template must describe a Job, not {template.get('kind')!r}"
                )
            job_template = template
        self.job_template = job_template
        self.cpu_request = _quantity(cpu_request, "cpu_request")
        self.memory_request = _quantity(memory_request, "memory_request")
