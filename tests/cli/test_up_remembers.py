"""``headrace up --port P`` saves the server's URL in the user's config file, so later
commands find it without ``--api``; the file's other settings and comments stay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from tests.agent.backend_support import wait_for
from tests.cli.test_up import _start_up
from tests.support.headrace_server import free_port

from headrace.cli.userconfig import set_user_value


def test_up_port_is_remembered_for_later_commands(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    config.parent.mkdir()
    config.write_text('# mine\n[logging]\nlevel = "INFO"\n')
    port = free_port()
    env = {"HEADRACE_CONFIG_PATH": str(config)}
    process, log = _start_up(tmp_path, port, env, "--no-examples")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: "local agent polling" in Path(log.name).read_text(), 60, "up to start")
        saved = tomllib.loads(config.read_text())
        assert saved["api"]["url"] == url
        assert saved["logging"]["level"] == "INFO" and config.read_text().startswith("# mine")
        clean = {k: v for k, v in os.environ.items() if k != "HEADRACE__API__URL"}
        done = subprocess.run(
            [sys.executable, "-m", "headrace", "get", "flows", "--output", "json"],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    assert f"saved api.url = {url} in {config}" in Path(log.name).read_text()


def test_set_user_value_edits_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("HEADRACE_CONFIG_PATH", str(config))
    set_user_value("api", "url", "http://a:1")
    set_user_value("api", "url", "http://b:2")
    config.write_text(config.read_text() + 'key = "k"  # keep\n[server]\nport = 1\n')
    set_user_value("api", "url", "http://c:3")
    data = tomllib.loads(config.read_text())
    assert data == {"api": {"url": "http://c:3", "key": "k"}, "server": {"port": 1}}
    assert "# keep" in config.read_text()
    monkeypatch.setenv("HEADRACE_CONFIG_PATH", str(tmp_path / "missing" / "config.toml"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        set_user_value("api", "url", "http://d:4")
