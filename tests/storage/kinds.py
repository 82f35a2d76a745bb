"""Every storage kind, set up for the storage conformance suite: a storage holding the
round-trip flow, and how to load that flow back *where it would run* and run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from headrace.serialization import load_storage
from headrace.storage import (
    S3,
    Bitbucket,
    CodeCommit,
    Docker,
    FileSystem,
    Git,
    GitHub,
    GitLab,
    Local,
    Module,
    Storage,
    Webhook,
)
from support.flows import ROUNDTRIP_SCRIPT, load_roundtrip_flow, outcome
from support.repo_hosts import TOKEN

KINDS = (
    "local",
    "local-script",
    "module",
    "filesystem-file",
    "filesystem-s3",
    "git",
    "docker",
    "s3",
    "s3-script",
    "webhook",
    "webhook-script",
    "github",
    "gitlab",
    "bitbucket-server",
    "bitbucket-cloud",
    "codecommit",
)

Runner = Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]


@dataclass
class StorageCase:
    storage: Storage
    flow: Any
    run_stored: Runner  # (storage JSON, location or name, parameters) -> outcome


def run_here(doc: dict[str, Any], location: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the storage from its JSON, load the flow and run it in this process."""
    flow = load_storage(json.loads(json.dumps(doc))).get_flow(location)
    return outcome(flow.run(parameters=parameters))


def make_git_repo(root: Path) -> Path:
    """A real git repository holding the flow script at ``flows/roundtrip.py``, with a
    ``v1`` tag on the first commit and a second commit that breaks the script."""
    repo = root / "repo"
    (repo / "flows").mkdir(parents=True)
    shutil.copy(ROUNDTRIP_SCRIPT, repo / "flows" / "roundtrip.py")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "the flow")
    git("tag", "v1")
    (repo / "flows" / "roundtrip.py").write_text("raise RuntimeError('broken on purpose')\n")
    git("commit", "-q", "-am", "break it")
    return repo


def make_case(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> StorageCase:
    flow = load_roundtrip_flow()
    storage: Storage
    if kind == "local":
        storage = Local(directory=tmp_path / "flows")
    elif kind == "local-script":
        script = tmp_path / "roundtrip_script.py"
        shutil.copy(ROUNDTRIP_SCRIPT, script)
        storage = Local(stored_as_script=True, path=script)
    elif kind == "module":
        package = tmp_path / "modpath" / f"flows_{uuid.uuid4().hex[:8]}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        shutil.copy(ROUNDTRIP_SCRIPT, package / "roundtrip.py")
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.syspath_prepend(str(tmp_path / "modpath"))
        storage = Module(f"{package.name}.roundtrip")
    elif kind == "filesystem-file":
        storage = FileSystem(f"file://{tmp_path}/fs/flows")
    elif kind == "filesystem-s3":
        endpoint = request.getfixturevalue("s3_server")
        import s3fs

        bucket = f"flows-{uuid.uuid4().hex[:8]}"
        options = {"client_kwargs": {"endpoint_url": endpoint}}
        s3fs.S3FileSystem(**options).mkdir(bucket)
        storage = FileSystem(f"s3://{bucket}/team/flows", storage_options=options)
    elif kind == "git":
        repo = make_git_repo(tmp_path)
        storage = Git(str(repo), "flows/roundtrip.py", ref="v1")
    elif kind in ("s3", "s3-script"):
        storage = s3_storage(request, script=kind == "s3-script")
    elif kind in ("webhook", "webhook-script"):
        storage = webhook_storage(request, script=kind == "webhook-script")
    elif kind in ("github", "gitlab", "bitbucket-server", "bitbucket-cloud", "codecommit"):
        storage = repo_storage(kind, request)
    elif kind == "docker":
        return docker_case(flow, request)
    else:
        raise AssertionError(kind)
    return StorageCase(storage, flow, run_here)


def make_bucket(endpoint: str) -> str:
    """A fresh bucket on the moto S3 server at ``endpoint``."""
    import s3fs

    bucket = f"flows-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True).mkdir(
        bucket
    )
    return bucket


def s3_storage(request: pytest.FixtureRequest, script: bool) -> S3:
    endpoint = request.getfixturevalue("s3_server")
    options = {"endpoint_url": endpoint}
    if script:
        return S3(
            make_bucket(endpoint),
            key="team/roundtrip.py",
            stored_as_script=True,
            local_script_path=str(ROUNDTRIP_SCRIPT),
            client_options=options,
        )
    return S3(make_bucket(endpoint), client_options=options)


def webhook_storage(request: pytest.FixtureRequest, script: bool) -> Webhook:
    """Webhook storage on the FlowDrop server; the bearer token comes from the environment
    variable ``DROP_TOKEN`` through ``${DROP_TOKEN}`` (so the health check's fresh
    interpreter finds it too)."""
    drop = request.getfixturevalue("flow_drop")
    request.getfixturevalue("monkeypatch").setenv("DROP_TOKEN", drop.token)
    url = f"{drop.url}/flows/{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": "Bearer ${DROP_TOKEN}"}
    return Webhook(
        build_request_kwargs={"url": url, "headers": headers},
        build_request_http_method="PUT",
        get_flow_request_kwargs={"url": url, "headers": headers},
        get_flow_request_http_method="GET",
        stored_as_script=script,
        flow_script_path=str(ROUNDTRIP_SCRIPT) if script else None,
    )


def repo_storage(kind: str, request: pytest.FixtureRequest) -> Storage:
    """A hosted-repository storage on the RepoHost stand-in, holding the round-trip script
    at ``flows/roundtrip.py`` on ref ``v1`` of a private repository (its token in the
    service's default environment variable) and a broken script on the default branch."""
    host = request.getfixturevalue("repo_host")
    monkeypatch = request.getfixturevalue("monkeypatch")
    script = ROUNDTRIP_SCRIPT.read_bytes()
    broken = b"raise RuntimeError('broken on purpose')\n"

    def publish(repo: str) -> None:
        host.add(repo, "v1", "flows/roundtrip.py", script)
        host.add(repo, "main", "flows/roundtrip.py", broken, default=True)
        host.private.add(repo)

    if kind == "github":
        publish("acme/pipelines")
        monkeypatch.setenv("GITHUB_ACCESS_TOKEN", TOKEN)
        return GitHub("acme/pipelines", "flows/roundtrip.py", ref="v1", base_url=host.url)
    if kind == "gitlab":
        publish("acme/pipelines")
        monkeypatch.setenv("GITLAB_ACCESS_TOKEN", TOKEN)
        return GitLab("acme/pipelines", host=host.url, path="flows/roundtrip.py", ref="v1")
    if kind == "bitbucket-server":
        publish("DATA/pipelines")
        monkeypatch.setenv("BITBUCKET_ACCESS_TOKEN", TOKEN)
        return Bitbucket("DATA", "pipelines", host=host.url, path="flows/roundtrip.py", ref="v1")
    if kind == "bitbucket-cloud":
        publish("acme/pipelines")
        monkeypatch.setenv("BITBUCKET_ACCESS_TOKEN", f"bot:{TOKEN}")
        return Bitbucket(
            "DATA",
            "pipelines",
            host=host.url,
            path="flows/roundtrip.py",
            ref="v1",
            workspace="acme",
        )
    assert kind == "codecommit"
    publish("pipelines")
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    return CodeCommit(
        "pipelines", "flows/roundtrip.py", commit="v1", client_options={"endpoint_url": host.url}
    )


def docker_case(flow: Any, request: pytest.FixtureRequest) -> StorageCase:
    daemon = request.getfixturevalue("docker_daemon")
    registry = request.getfixturevalue("docker_registry")
    base = request.getfixturevalue("docker_base_image")
    storage = Docker(
        registry_url=registry,
        image_name="roundtrip",
        image_tag=uuid.uuid4().hex[:8],
        base_image=base,
        env_vars={"ROUNDTRIP_MARK": "in-image"},
    )

    def run_in_container(
        doc: dict[str, Any], location: str, parameters: dict[str, Any]
    ) -> dict[str, Any]:
        code = textwrap.dedent(
            """
            import json, os, sys
            from headrace.serialization import load_storage
            doc, location, parameters = json.loads(sys.argv[1])
            flow = load_storage(doc).get_flow(location)
            state = flow.run(parameters=parameters)
            results = {t.name: s.result for t, s in state.result.items()}
            print("OUTCOME " + json.dumps({"state": type(state).__name__,
                "total": results["total"], "square": results["square"],
                "mark": os.environ.get("ROUNDTRIP_MARK")}))
            """
        )
        output = (
            daemon.client()
            .containers.run(
                storage.name,
                ["python", "-c", code, json.dumps([doc, location, parameters])],
                network_mode="host",
                remove=True,
            )
            .decode()
        )
        line = next(x for x in output.splitlines() if x.startswith("OUTCOME "))
        result: dict[str, Any] = json.loads(line[len("OUTCOME ") :])
        assert result.pop("mark") == "in-image"
        return result

    return StorageCase(storage, flow, run_in_container)
