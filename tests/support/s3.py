"""Session fixture: a real S3-compatible HTTP server (moto's server mode) on 127.0.0.1.

Yields the endpoint URL. Credentials are dummy values set in the environment for the
session (so fresh interpreters started by health checks see them too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import free_port, stop_process, wait_for
from support.requirements import require

__all__ = ["s3_server"]

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    server = shutil.which("moto_server")
    require("moto_server", server is not None, "pip install 'moto[server]'")
    assert server is not None
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="headrace-moto-"))
    log = (root / "moto.log").open("wb")
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    previous = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as resp:
            return bool(resp.status == 200)

    try:
        wait_for(ready, 60, "moto_server", proc)
        yield url
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stop_process(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
