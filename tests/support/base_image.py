"""A Docker base image made from this machine's own Python (no image registry is reachable
here, so ``FROM python:...`` cannot be pulled).

The root file system holds the interpreter's prefix (the standard library without
site-packages, but with pip), the shared libraries ``ldd`` lists for it and its extension
modules (plus the usual manylinux ones), the dynamic loader, ``/bin/dash`` as ``/bin/sh``
and a minimal ``/etc``. It is ``docker import``-ed, then headrace's third-party
dependencies are installed into a second image from a wheelhouse built on the host, so
images built on top of it install headrace without the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["BASE_FORMAT", "base_image_tag", "build_rootfs", "ensure_base_image"]

BASE_FORMAT = "2"  # bump when the image's recipe changes
ROOT = Path(__file__).resolve().parents[2]
EXTRA_LIBS = (
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libz.so.1",
    "libexpat.so.1",
)
SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages"}
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def headrace_dependencies() -> list[str]:
    """headrace's required third-party packages, from pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


def base_image_tag() -> str:
    """``headrace-test-base:py3.11-<digest>``: the digest covers the recipe, the Python
    version and headrace's dependency list, so a change gives a new image."""
    version = "{}.{}.{}".format(*sys.version_info[:3])
    digest = hashlib.sha256(
        json.dumps([BASE_FORMAT, version, sys.base_prefix, headrace_dependencies()]).encode()
    ).hexdigest()[:12]
    return f"headrace-test-base:py{version}-{digest}"


def _ldd(path: Path) -> set[str]:
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
    found = set(re.findall(r"=> (/\S+)", out))
    found |= set(re.findall(r"^\s*(/\S+) \(", out, re.MULTILINE))
    return found


def _ldconfig(name: str) -> str | None:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    match = re.search(rf"^\s*{re.escape(name)} \(libc6,x86-64\) => (\S+)$", out, re.MULTILINE)
    return match.group(1) if match else None


def _copy_into(root: Path, path: str) -> None:
    """Copy the file ``path`` (following links) to the same place under ``root``, with its
    directory resolved (Debian merges /lib into /usr/lib)."""
    directory = os.path.realpath(os.path.dirname(path))
    target = root / directory.lstrip("/") / os.path.basename(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy2(os.path.realpath(path), target)


def build_rootfs(root: Path) -> None:
    """Lay out the image's file system under ``root``."""
    prefix = Path(sys.base_prefix)
    exe = Path(sys.executable).resolve()
    stdlib_name = "python{}.{}".format(*sys.version_info[:2])
    stdlib = prefix / "lib" / stdlib_name
    dest = root / prefix.relative_to("/")
    for link in ("lib", "bin", "sbin", "lib64"):
        (root / "usr" / link).mkdir(parents=True, exist_ok=True)
        (root / link).symlink_to(f"usr/{link}")
    (dest / "bin").mkdir(parents=True)
    shutil.copy2(exe, dest / "bin" / stdlib_name)
    for alias in ("python3", "python"):
        (dest / "bin" / alias).symlink_to(stdlib_name)
    (dest / "lib").mkdir()
    for lib in (prefix / "lib").glob("libpython*.so*"):
        shutil.copy2(lib.resolve(), dest / "lib" / lib.name)

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        # Optimized byte code (-O/-OO) is never used here and doubles the image.
        skipped = {n for n in names if ".opt-" in n and n.endswith(".pyc")}
        if here == stdlib:
            skipped |= {n for n in names if n.startswith("config-")}
            skipped |= SKIP_STDLIB & set(names)
        return skipped

    shutil.copytree(stdlib, dest / "lib" / stdlib_name, ignore=ignore, symlinks=True)
    site = stdlib / "site-packages"
    for entry in site.iterdir():
        if entry.name == "pip" or re.match(r"pip-[\d.]+\.dist-info$", entry.name):
            shutil.copytree(entry, dest / "lib" / stdlib_name / "site-packages" / entry.name)
    (dest / "lib" / stdlib_name / "site-packages").mkdir(exist_ok=True)
    libs: set[str] = _ldd(exe)
    for ext in (stdlib / "lib-dynload").glob("*.so"):
        libs |= _ldd(ext)
    libs |= {p for p in map(_ldconfig, EXTRA_LIBS) if p}
    libs |= {"/lib64/ld-linux-x86-64.so.2"}
    for lib in sorted(libs):
        if not lib.startswith(str(prefix)):
            _copy_into(root, lib)
    shutil.copy2("/bin/dash", root / "usr" / "bin" / "sh")
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    for alias in ("python", "python3"):
        (root / "usr" / "local" / "bin" / alias).symlink_to(prefix / "bin" / stdlib_name)
    etc = root / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\n")
    (root / "root").mkdir(exist_ok=True)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)


def _wheelhouse(cache: Path, deps: list[str]) -> Path:
    digest = hashlib.sha256(json.dumps(deps).encode()).hexdigest()[:12]
    house = cache / f"wheelhouse-{digest}"
    if house.is_dir():
        return house
    staging = Path(tempfile.mkdtemp(prefix="wheelhouse-", dir=cache))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(staging), *deps], check=True
    )
    try:
        staging.rename(house)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return house


def ensure_base_image(client: Any, cache: Path) -> str:
    """The base image's tag: present already, loaded from ``cache``, or built (and saved
    to ``cache`` for the next session)."""
    import docker.errors

    tag = base_image_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    cache.mkdir(parents=True, exist_ok=True)
    saved = cache / (tag.replace(":", "_") + ".tar")
    if saved.is_file():
        with saved.open("rb") as fh:
            client.images.load(fh)
        return tag
    repository, _, version = tag.partition(":")
    python_tag = f"{repository}-python:{version}"
    with tempfile.TemporaryDirectory(prefix="headrace-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        rootfs.mkdir()
        build_rootfs(rootfs)
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        client.api.import_image(
            src=str(archive),
            repository=f"{repository}-python",
            tag=version,
            changes=[
                "ENV PATH=/usr/local/bin:/usr/bin:/bin",
                "ENV LANG=C.UTF-8",
                "ENV HOME=/root",
                'CMD ["python3"]',
            ],
        )
    deps = headrace_dependencies()
    house = _wheelhouse(cache, deps)
    with tempfile.TemporaryDirectory(prefix="headrace-base-") as tmp:
        context = Path(tmp)
        shutil.copytree(house, context / "wheelhouse")
        lines = [f"FROM {python_tag}"]
        if HOST_CA_BUNDLE.is_file():
            shutil.copy2(HOST_CA_BUNDLE, context / "ca-certificates.crt")
            lines += [
                "COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
                "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "
                "PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            ]
        lines += [
            "COPY wheelhouse /tmp/wheelhouse",
            "RUN python -m pip install -q --no-cache-dir --disable-pip-version-check --no-index "
            "--find-links /tmp/wheelhouse " + " ".join(json.dumps(d) for d in deps),
        ]
        (context / "Dockerfile").write_text("\n".join(lines) + "\n")
        client.images.build(path=str(context), tag=tag, network_mode="host", rm=True, forcerm=True)
    staging = saved.with_suffix(f".tmp{os.getpid()}")
    with staging.open("wb") as fh:
        for chunk in client.images.get(tag).save(named=True):
            fh.write(chunk)
    staging.rename(saved)
    _forget_older_bases(client, cache, tag, saved)
    return tag


def _forget_older_bases(client: Any, cache: Path, tag: str, saved: Path) -> None:
    """Drop base images and archives of earlier recipes (the cache would only grow)."""
    for archive in cache.glob("headrace-test-base_*.tar"):
        if archive != saved:
            archive.unlink(missing_ok=True)
    for house in cache.glob("wheelhouse-*"):
        if house.is_dir() and house.stat().st_mtime < saved.stat().st_mtime - 7 * 86400:
            shutil.rmtree(house, ignore_errors=True)
    for image in client.images.list():
        stale = [t for t in image.tags if t.startswith("headrace-test-base") and t != tag]
        stale = [t for t in stale if not t.startswith(tag.replace(":", "-python:"))]
        if stale and tag not in image.tags:
            for name in stale:
                try:
                    client.images.remove(name, force=True)
                except Exception:
                    pass
