"""``Docker``: flows baked into a Docker image with headrace, checked inside the image,
pushed to a registry; loaded back inside containers of that image."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from headrace._serializable.errors import BuildError, FlowLoadError
from headrace.storage.base import Storage
from headrace.storage.docker_progress import stream_build, stream_push
from headrace.storage.flowfile import dumps_flow, flow_file_name, loads_flow
from headrace.storage.image import IMAGE_ROOT, headrace_install, write_dockerfile

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Docker"]

_IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _str_map(value: Mapping[str, str] | None, what: str) -> dict[str, str]:
    out = dict(value or {})
    for k, v in out.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"Docker storage: {what} must map strings to strings ({k!r}: {v!r})")
    return out


class Docker(Storage):
    """An image ``<registry_url>/<image_name>:<image_tag>`` holding headrace, the flows
    (pickled under ``/opt/headrace/flows``), ``python_dependencies``, ``env_vars`` and
    ``files`` (``{host path: image path}``).

    The image starts ``FROM base_image`` (default: ``storage.docker.base_image`` in config)
    or from the user's ``dockerfile``. Building runs the health checks *inside* the image
    (unless ``ignore_healthchecks``), then pushes to ``registry_url`` if one is given.
    ``build_kwargs`` go to the docker SDK's ``images.build``; builds and the checks use the
    host's network.
    """

    serialized_fields = (
        "registry_url",
        "image_name",
        "image_tag",
        "base_image",
        "python_dependencies",
        "env_vars",
        "files",
        "ignore_healthchecks",
    )

    def __init__(
        self,
        registry_url: str | None = None,
        image_name: str | None = None,
        image_tag: str | None = None,
        base_image: str | None = None,
        dockerfile: str | None = None,
        python_dependencies: Iterable[str] | None = None,
        env_vars: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        build_kwargs: Mapping[str, Any] | None = None,
        ignore_healthchecks: bool = False,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
        base_url: str | None = None,
    ) -> None:
        super().__init__(labels=labels, secrets=secrets)
        if base_image is not None and dockerfile is not None:
            raise ValueError("Docker storage: give base_image or dockerfile, not both")
        if image_name is not None and not _IMAGE_NAME.match(image_name):
            raise ValueError(f"Docker storage: {image_name!r} is not a valid image name")
        if image_tag is not None and not _TAG.match(image_tag):
            raise ValueError(f"Docker storage: {image_tag!r} is not a valid image tag")
        if dockerfile is not None and not Path(dockerfile).is_file():
            raise ValueError(f"Docker storage: dockerfile {dockerfile!r} does not exist")
        self.registry_url = registry_url
        self.image_name = image_name
        self.image_tag = image_tag
        self.base_image = base_image
        self.dockerfile = dockerfile
        if isinstance(python_dependencies, str):
            raise TypeError("Docker storage: python_dependencies must be a list of requirements")
        self.python_dependencies = list(python_dependencies or ())
        self.env_vars = _str_map(env_vars, "env_vars")
        self.files = _str_map(files, "files")
        for destination in self.files.values():
            if not PurePosixPath(destination).is_absolute():
                raise ValueError(
                    f"Docker storage: file destination {destination!r} must be absolute"
                )
        self.build_kwargs = dict(build_kwargs or {})
        self.ignore_healthchecks = bool(ignore_healthchecks)
        self.base_url = base_url

    @property
    def name(self) -> str:
        """The full image reference: ``registry_url`` + ``image_name`` + ``:image_tag``."""
        if self.image_name is None or self.image_tag is None:
            raise ValueError("Docker storage: the image has no name and tag until it is built")
        repository = self.image_name
        if self.registry_url:
            repository = f"{self.registry_url.rstrip('/')}/{self.image_name}"
        return f"{repository}:{self.image_tag}"

    def store_flow(self, flow: Flow) -> str:
        location = f"{IMAGE_ROOT}/flows/{flow_file_name(flow.name)}"
        n = 1
        while location in self.flows.values():
            n += 1
            location = f"{IMAGE_ROOT}/flows/{flow_file_name(f'{flow.name}-{n}')}"
        return location

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(location)
        path = Path(location)
        if not path.is_file():
            image = self.name if self.image_name and self.image_tag else "(not built)"
            raise FlowLoadError(
                f"{where}: no such file here; the flow lives inside image {image}, load it "
                f"in a container of that image"
            )
        return loads_flow(path.read_bytes(), where)

    # ---- building ---------------------------------------------------------------------

    def build(self, run_health_checks: bool = True, push: bool = True) -> Docker:
        """Build the image (health checks run inside it), then push it if a registry is
        set and ``push``."""
        self.build_image(run_health_checks=run_health_checks and not self.ignore_healthchecks)
        if push and self.registry_url:
            self.push_image()
        return self

    def client(self) -> Any:
        from headrace.utilities.extras import require_extra

        docker = require_extra("docker", "docker", "Docker storage")

        if self.base_url:
            return docker.DockerClient(base_url=self.base_url)
        return docker.from_env()

    def _base(self) -> str:
        if self.dockerfile is not None:
            return Path(self.dockerfile).read_text()
        base = self.base_image
        if base is None:
            from headrace.configuration import config

            base = str(config.storage.docker.base_image).format(
                python_version="{}.{}".format(*sys.version_info[:2])
            )
        return f"FROM {base}"

    def build_image(self, run_health_checks: bool = True) -> str:
        """Build the image; returns its id. A failed health check inside the image raises
        :class:`~headrace.serialization.errors.HealthCheckError` naming check and culprit."""
        from headrace.utilities.extras import require_extra

        require_extra("docker", "docker", "Docker storage")
        import docker.errors

        from headrace.configuration import config
        from headrace.storage.healthcheck import parse_report, raise_for_report

        if not self.flows:
            raise BuildError("Docker storage holds no flows; add_flow before building")
        if self.image_name is None:
            self.image_name = flow_file_name(next(iter(self.flows)))[: -len(".flow")]
        if self.image_tag is None:
            self.image_tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        healthcheck = None
        if run_health_checks:
            doc = json.dumps(self.serialize())
            here = "{}.{}".format(*sys.version_info[:2])
            healthcheck = ["python", "-m", "headrace.storage.healthcheck"]
            healthcheck += ["--python-version", here, "--storage", doc]
        log: list[str] = []
        with tempfile.TemporaryDirectory(prefix="headrace-image-") as tmp:
            context = Path(tmp)
            (context / "flows").mkdir()
            for flow_name, location in self.flows.items():
                flow = self._flows.get(flow_name)
                if flow is None:
                    raise BuildError(
                        f"Docker storage: flow {flow_name!r} is not in memory to build"
                    )
                (context / "flows" / PurePosixPath(location).name).write_bytes(dumps_flow(flow))
            for source in self.files:
                if not Path(source).exists():
                    raise BuildError(f"Docker storage: file {source!r} to copy does not exist")
            write_dockerfile(
                context,
                base=self._base(),
                headrace_spec=headrace_install(context),
                python_dependencies=self.python_dependencies,
                env_vars=self.env_vars,
                files=self.files,
                pip_args=str(config.storage.docker.pip_args),
                healthcheck=healthcheck,
            )
            kwargs = {"network_mode": "host", "rm": True, "forcerm": True, **self.build_kwargs}
            client = self.client()
            try:
                image_id, error = stream_build(
                    client.api.build(path=str(context), tag=self.name, decode=True, **kwargs),
                    log,
                    self.name,
                )
            except docker.errors.DockerException as exc:
                raise BuildError(f"building image {self.name} failed: {exc}") from exc
            if error is not None:
                report = parse_report("".join(log))
                if report is not None:
                    raise_for_report(report, f"image {self.name}")
                raise BuildError(
                    f"building image {self.name} failed: {error}\n{''.join(log)[-3000:]}"
                )
            if image_id is None:
                image_id = str(client.images.get(self.name).id)
        report = parse_report("".join(log))
        if report is not None:
            raise_for_report(report, f"image {self.name}")
            self.last_health_report = report
        return image_id

    def push_image(self) -> None:
        """Push the built image to ``registry_url``."""
        repository, _, tag = self.name.rpartition(":")
        errors: list[str] = []
        stream_push(
            self.client().images.push(repository, tag=tag, stream=True, decode=True),
            errors,
            self.name,
        )
        if errors:
            raise BuildError(f"pushing image {self.name} failed: {'; '.join(errors)}")
