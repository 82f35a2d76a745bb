"""``DockerAgent``: each flow run in a container.

The image is the run config's (``DockerRun.image``), else the flow's Docker storage image,
else ``agent.docker_image``. The container runs ``python -m headrace execute flow-run`` with
host networking (so the API URL the agent uses works inside it), the run config's ``env``
and what headrace needs; its output is read into the agent's log. Containers are removed
once they end (or are stopped by a cancellation).
"""

from __future__ import annotations

import threading
from typing import Any

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import DeploymentFailedError

__all__ = ["ContainerHandle", "DockerAgent"]


class ContainerHandle(RunHandle):
    """A flow run's container and a thread streaming its output."""

    def __init__(
        self, flow_run_id: str, container: Any, logger: Any, secrets: list[str] | None = None
    ) -> None:
        super().__init__(flow_run_id)
        self.secrets = list(secrets or ())
        self.container = container
        self.logger = logger
        self._reader = threading.Thread(
            target=self._pump, name=f"container-{flow_run_id[:8]}", daemon=True
        )
        self._reader.start()

    def _pump(self) -> None:
        buffer = b""
        try:
            for chunk in self.container.logs(stream=True, follow=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    line = self.masked(raw.decode(errors="replace"))
                    self.output.append(line)
                    self.logger.info("[flow run %s] %s", self.flow_run_id[:8], line)
        except Exception as exc:  # the container went away while streaming
            self.logger.debug("flow run %s: output stream ended: %s", self.flow_run_id, exc)
        if buffer:
            self.output.append(self.masked(buffer.decode(errors="replace")))

    def poll(self) -> int | None:
        try:
            self.container.reload()
        except Exception:
            return -1
        if self.container.status not in ("exited", "dead"):
            return None
        self._reader.join(5)
        return int(self.container.attrs.get("State", {}).get("ExitCode", -1))

    def stop(self) -> None:
        try:
            self.container.stop(timeout=10)
        except Exception as exc:
            self.logger.warning("flow run %s: stopping its container: %s", self.flow_run_id, exc)

    def terminate(self) -> None:
        """SIGTERM to the container's main process (the run stops itself)."""
        self._signal("SIGTERM")

    def kill(self) -> None:
        self._signal("SIGKILL")

    def _signal(self, name: str) -> None:
        try:
            self.container.kill(signal=name)
        except Exception as exc:  # it ended meanwhile
            self.logger.debug("flow run %s: %s to its container: %s", self.flow_run_id, name, exc)

    def cleanup(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception as exc:
            self.logger.debug("flow run %s: removing its container: %s", self.flow_run_id, exc)
        self._reader.join(5)


class DockerAgent(Agent):
    """Runs flow runs in containers of the Docker engine at ``base_url`` (default: the
    environment's ``DOCKER_HOST``)."""

    agent_type = "docker"

    def __init__(
        self,
        *args: Any,
        base_url: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        from headrace.configuration import config

        self.base_url = base_url
        self.image = image or config.get("agent", {}).get("docker_image") or None
        self.env = dict(env or {})
        self._docker: Any = None

    @property
    def docker(self) -> Any:
        if self._docker is None:
            from headrace.utilities.extras import require_extra

            docker = require_extra("docker", "docker", "the Docker agent")
            self._docker = (
                docker.DockerClient(base_url=self.base_url) if self.base_url else docker.from_env()
            )
        return self._docker

    def image_for(self, run: dict[str, Any]) -> str:
        """The image of ``run``: its DockerRun image, its Docker storage's, or the agent's."""
        image = (run.get("run_config") or {}).get("image")
        if image:
            return str(image)
        document = self.client.get_flow(run["flow_id"]).get("document") or {}
        storage = document.get("storage") or {}
        if storage.get("image_name") and storage.get("image_tag"):
            from headrace.serialization import load_storage

            built: Any = load_storage(storage)
            return str(built.name)
        if self.image:
            return self.image
        raise DeploymentFailedError(
            f"flow run {run['id']}: no image to run it in (give the flow Docker storage, a "
            "DockerRun(image=...), or set agent.docker_image)"
        )

    def deploy_flow(self, run: dict[str, Any]) -> RunHandle:
        image = self.image_for(run)
        try:
            self.docker.images.get(image)
        except Exception:
            repository, _, tag = image.rpartition(":")
            try:
                self.docker.images.pull(repository or image, tag=tag or None)
            except Exception as exc:
                raise DeploymentFailedError(
                    f"flow run {run['id']}: cannot pull image {image!r}: {exc}"
                ) from exc
        env = {**self.env, **self.run_environment(run), "PYTHONUNBUFFERED": "1"}
        container = self.docker.containers.run(
            image,
            ["python", "-m", "headrace", "execute", "flow-run", "--id", run["id"]],
            environment=env,
            network_mode="host",
            detach=True,
            labels={"io.headrace.flow-run-id": run["id"]},
        )
        return ContainerHandle(run["id"], container, self.logger, self.run_secrets(run, env))
