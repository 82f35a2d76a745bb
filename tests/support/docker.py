"""Session fixtures for a real Docker engine, a real image registry and a base image.

- ``docker_daemon``: ``dockerd`` with its own data-root/exec-root/pidfile/socket in a
  temporary directory, no bridge and no iptables (everything uses host networking);
  ``DOCKER_HOST`` points at it for the session. Stopped by PID at the end.
- ``docker_registry``: Debian's ``docker-registry`` on 127.0.0.1 at a free port, with a
  minimal config (no auth); yields ``"localhost:PORT"`` (needs no TLS).
- ``docker_base_image``: see :mod:`support.base_image`; cached across sessions as a
  ``docker save`` archive under ``~/.cache/headrace-test-docker`` (or
  ``$HEADRACE_TEST_DOCKER_CACHE``).

Use them with ``from support.docker import docker_daemon, ...`` in a conftest or test
module. Tests using them are marked ``@pytest.mark.docker``; a missing engine skips them
locally and fails them in CI (``require``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.processes import free_port, stop_process, wait_for
from support.requirements import require

__all__ = [
    "DockerDaemon",
    "docker_base_image",
    "docker_daemon",
    "docker_registry",
    "shared_wheel_cache",
]

CACHE = Path(os.environ.get("HEADRACE_TEST_DOCKER_CACHE", "~/.cache/headrace-test-docker"))


@dataclass
class DockerDaemon:
    """A running ``dockerd``: its ``DOCKER_HOST`` URL, process and a client factory."""

    host: str
    process: subprocess.Popen[bytes]
    root: Path

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.host, timeout=300)

    @property
    def log(self) -> str:
        return (self.root / "dockerd.log").read_text(errors="replace")


def _docker_missing() -> str:
    if shutil.which("dockerd") is None:
        return "dockerd is not installed (scripts/ci/install-docker.sh)"
    if os.geteuid() != 0:
        return "dockerd needs root"
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the docker SDK is not installed (pip install headrace[docker])"
    return ""


def _unmount_under(root: Path) -> None:
    """Unmount what dockerd left mounted under ``root`` (its network namespace file)."""
    with open("/proc/mounts") as fh:
        points = [line.split()[1] for line in fh]
    for point in sorted((p for p in points if p.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _data_root(stack: contextlib.ExitStack, session_root: Path) -> Path:
    """The cached data-root when no other session uses it (images persist between
    sessions), else a throw-away one under ``session_root``."""
    cache = CACHE.expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    lock = stack.enter_context((cache / "daemon.lock").open("w"))
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return session_root / "data"
    return cache / "data"


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[DockerDaemon]:
    missing = _docker_missing()
    require("docker", not missing, missing)
    stack = contextlib.ExitStack()
    root = Path(tempfile.mkdtemp(prefix="hrd-", dir="/tmp"))  # short: socket paths are limited
    data_root = _data_root(stack, root)
    host = f"unix://{root}/docker.sock"
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            "dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            "--data-root",
            str(data_root),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
            "-H",
            host,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    daemon = DockerDaemon(host=host, process=proc, root=root)
    previous = os.environ.get("DOCKER_HOST")
    try:
        wait_for(lambda: daemon.client().ping(), 60, "dockerd", proc)
    except RuntimeError as exc:
        stop_process(proc)
        log.close()
        text = daemon.log[-2000:]
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
        stack.close()
        require("docker", False, f"{exc}: {text}")
    os.environ["DOCKER_HOST"] = host
    client = daemon.client()
    images_before = {image.id for image in client.images.list(all=True)}
    try:
        yield daemon
    finally:
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
        _remove_session_images(client, images_before)
        stop_process(proc, timeout=30)
        log.close()
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
        stack.close()


def _remove_session_images(client: Any, before: set[str]) -> None:
    """Drop the images this session built (all but base images), so a cached data-root
    does not grow."""
    for container in client.containers.list(all=True):
        with contextlib.suppress(Exception):
            container.remove(force=True)
    for image in client.images.list():
        if image.id in before or any(t.startswith("headrace-test-base") for t in image.tags):
            continue
        with contextlib.suppress(Exception):
            client.images.remove(image.id, force=True)
    with contextlib.suppress(Exception):
        client.images.prune(filters={"dangling": True})


@pytest.fixture(scope="session")
def docker_registry() -> Iterator[str]:
    registry = shutil.which("docker-registry")
    require("docker registry", registry is not None, "install docker-registry")
    assert registry is not None
    root = Path(tempfile.mkdtemp(prefix="headrace-registry-"))
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([registry, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as resp:
            return bool(resp.status == 200)

    try:
        wait_for(ready, 30, "docker-registry", proc)
        yield f"localhost:{port}"
    finally:
        stop_process(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_base_image(docker_daemon: DockerDaemon) -> str:
    """The tag of a local base image with Python, pip and headrace's dependencies."""
    from support.base_image import ensure_base_image

    return ensure_base_image(docker_daemon.client(), CACHE.expanduser())


@pytest.fixture(scope="session")
def _session_wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("headrace-wheels")


@pytest.fixture
def shared_wheel_cache(_session_wheel_cache: Path) -> Iterator[Path]:
    """One headrace wheel for the whole session (tests each get their own home_dir): image
    builds then share Docker's layer cache for the headrace install step."""
    from headrace.configuration import config

    with config.override(**{"storage.docker.wheel_cache": str(_session_wheel_cache)}):
        yield _session_wheel_cache
