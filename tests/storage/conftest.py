"""Fixtures for storage tests: real Docker engine/registry/base image, a real
S3-compatible server (moto) on loopback, local stand-ins for the git hosting services and
a real webhook server (``support.repo_hosts``), one headrace wheel for all image builds."""

import pytest

from support.docker import (
    _session_wheel_cache,
    docker_base_image,
    docker_daemon,
    docker_registry,
    shared_wheel_cache,
)
from support.repo_hosts import flow_drop, repo_host
from support.s3 import s3_server

__all__ = [
    "_session_wheel_cache",
    "docker_base_image",
    "docker_daemon",
    "docker_registry",
    "flow_drop",
    "repo_host",
    "s3_server",
    "shared_wheel_cache",
]


@pytest.fixture(autouse=True)
def _one_wheel(shared_wheel_cache: object) -> None:
    """Every test here builds images from the same headrace wheel."""
