"""What goes into a :class:`~headrace.storage.Docker` image: the build context (Dockerfile,
flows, headrace itself, the host's CA bundle, the user's files)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from headrace._serializable.errors import BuildError

__all__ = ["HOST_CA_BUNDLE", "IMAGE_ROOT", "headrace_install", "write_dockerfile"]

IMAGE_ROOT = "/opt/headrace"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def source_tree() -> Path | None:
    """The checkout headrace is imported from, if it is one (``pyproject.toml`` beside
    ``src/headrace``)."""
    import headrace._version

    root = Path(headrace._version.__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
    except (KeyError, ValueError):
        return None
    return root if name == "headrace" else None


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", *sorted((root / "src" / "headrace").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def headrace_wheel(target: Path) -> Path:
    """A wheel of the headrace checkout in ``target`` (built once per source state and
    kept under ``storage.docker.wheel_cache``, default ``<home_dir>/cache/wheels``)."""
    from headrace.configuration import config

    root = source_tree()
    if root is None:
        raise BuildError("headrace is not imported from a source checkout; no wheel to build")
    configured = str(config.storage.docker.wheel_cache)
    wheels_dir = Path(configured or Path(config.home_dir) / "cache" / "wheels").expanduser()
    cache = wheels_dir / _tree_digest(root)
    wheels = sorted(cache.glob("headrace-*.whl")) if cache.is_dir() else []
    if not wheels:
        staging = cache.with_name(cache.name + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="headrace-wheel-") as tmp:
            # Build from a copy so nothing is written into the checkout.
            copy = Path(tmp) / "headrace"
            shutil.copytree(
                root / "src" / "headrace",
                copy / "src" / "headrace",
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            for name in ("pyproject.toml", "README.md", "LICENSE"):
                if (root / name).is_file():
                    shutil.copy2(root / name, copy / name)
            cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(staging)]
            # This interpreter's setuptools first (no network); else an isolated build.
            proc = subprocess.run(
                [*cmd, "--no-build-isolation", str(copy)], capture_output=True, text=True
            )
            if proc.returncode != 0:
                proc = subprocess.run([*cmd, str(copy)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"building the headrace wheel from {root} failed: {proc.stderr}")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(cache)
        except OSError:  # another build got there first
            shutil.rmtree(staging, ignore_errors=True)
        wheels = sorted(cache.glob("headrace-*.whl"))
    target.mkdir(parents=True, exist_ok=True)
    copied = target / wheels[-1].name
    shutil.copy2(wheels[-1], copied)
    return copied


def headrace_install(context: Path) -> str:
    """What ``pip install`` gets for headrace: a wheel in the context (from a checkout), or
    this exact version from the package index."""
    from headrace._version import __version__

    if source_tree() is None:
        return f"headrace=={__version__}"
    wheel = headrace_wheel(context / "wheels")
    return f"{IMAGE_ROOT}/wheels/{wheel.name}"


def _env_line(env: Mapping[str, str]) -> str:
    return "ENV " + " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(env.items()))


def write_dockerfile(
    context: Path,
    *,
    base: str,
    headrace_spec: str,
    python_dependencies: Iterable[str],
    env_vars: Mapping[str, str],
    files: Mapping[str, str],
    pip_args: str,
    healthcheck: list[str] | None,
) -> Path:
    """Write ``context/Dockerfile`` (``base`` is a ``FROM`` line or a user's Dockerfile)."""
    lines = [base.rstrip(), ""]
    if HOST_CA_BUNDLE.is_file():
        shutil.copy2(HOST_CA_BUNDLE, context / "ca-certificates.crt")
        lines += [
            "COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
            _env_line(
                {
                    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
                    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
                    "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
                }
            ),
        ]
    lines.append(_env_line({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}))
    if (context / "wheels").is_dir():
        lines.append(f"COPY wheels {IMAGE_ROOT}/wheels")
    pip = f"python -m pip install -q {pip_args}".rstrip()
    lines.append(f"RUN {pip} {json.dumps(headrace_spec)}")
    deps = list(python_dependencies)
    if deps:
        lines.append(f"RUN {pip} " + " ".join(json.dumps(d) for d in deps))
    if env_vars:
        lines.append(_env_line(env_vars))
    for n, (source, destination) in enumerate(sorted(files.items())):
        src = Path(source)
        staged = context / "files" / str(n) / src.name
        staged.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, staged)
        else:
            shutil.copy2(src, staged)
        lines.append(f"COPY {json.dumps([staged.relative_to(context).as_posix(), destination])}")
    lines.append(f"COPY flows {IMAGE_ROOT}/flows")
    if healthcheck is not None:
        lines.append(f"RUN {json.dumps(healthcheck)}")
    dockerfile = context / "Dockerfile"
    dockerfile.write_text("\n".join(lines) + "\n")
    return dockerfile
