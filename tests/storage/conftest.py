"""Fixtures for storage tests: real Docker engine/registry/base image, a real
S3-compatible server (moto) on loopback."""

from support.docker import docker_base_image, docker_daemon, docker_registry
from support.s3 import s3_server

__all__ = ["docker_base_image", "docker_daemon", "docker_registry", "s3_server"]
