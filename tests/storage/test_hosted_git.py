"""GitHub, GitLab, Bitbucket (Server and Cloud) and CodeCommit storages against a local
stand-in (``support.repo_hosts.RepoHost``, an ``http.server`` on 127.0.0.1 answering the
few REST routes each storage uses, with the services' status codes). The real services
cannot be reached from the test machines; what is checked here is the requests each
storage makes, the flow it loads from the fetched script, and its errors: a 404 naming
repository, path and ref, a refused token naming the secret and never its value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headrace import context
from headrace._serializable.errors import FlowLoadError
from headrace.serialization import load_storage
from headrace.storage import Bitbucket, CodeCommit, GitHub, GitLab
from headrace.storage.credentials import MissingSecretError
from headrace.storage.hosted_git import RepositoryFileStorage
from support.flows import ROUNDTRIP_SCRIPT, outcome
from support.repo_hosts import TOKEN, RepoHost

SCRIPT = ROUNDTRIP_SCRIPT.read_bytes()


def _make(service: str, host: RepoHost, **kwargs: Any) -> RepositoryFileStorage:
    path = kwargs.pop("path", "flows/roundtrip.py")
    if service == "github":
        return GitHub("acme/pipelines", path, base_url=host.url, **kwargs)
    if service == "gitlab":
        return GitLab("acme/pipelines", host=host.url, path=path, **kwargs)
    if service == "bitbucket-server":
        return Bitbucket("acme", "pipelines", host=host.url, path=path, **kwargs)
    if service == "bitbucket-cloud":
        return Bitbucket("DATA", "pipelines", host=host.url, path=path, workspace="acme", **kwargs)
    raise AssertionError(service)


SERVICES = ["github", "gitlab", "bitbucket-server", "bitbucket-cloud"]


@pytest.fixture(autouse=True)
def _no_default_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACCESS_TOKEN", "GITLAB_ACCESS_TOKEN", "BITBUCKET_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _token(service: str) -> str:
    return f"bot:{TOKEN}" if service == "bitbucket-cloud" else TOKEN


@pytest.mark.parametrize("service", SERVICES)
def test_the_named_secret_fetches_the_script_at_the_ref(service: str, repo_host: RepoHost) -> None:
    repo_host.add("acme/pipelines", "v2", "flows/roundtrip.py", SCRIPT)
    repo_host.private.add("acme/pipelines")
    storage = _make(service, repo_host, ref="v2", access_token_secret="MY_REPO_TOKEN")
    assert storage.add_flow(load_script_flow()) == "flows/roundtrip.py"
    doc = storage.serialize()
    assert doc["access_token_secret"] == "MY_REPO_TOKEN" and TOKEN not in json.dumps(doc)
    with context(secrets={"MY_REPO_TOKEN": _token(service)}):
        flow = load_storage(doc).get_flow("roundtrip")
    assert outcome(flow.run())["total"] == 18


@pytest.mark.parametrize("service", SERVICES)
def test_a_missing_file_or_ref_is_a_404_naming_repo_path_and_ref(
    service: str, repo_host: RepoHost
) -> None:
    repo_host.add("acme/pipelines", "v2", "flows/roundtrip.py", SCRIPT)
    storage = _make(service, repo_host, ref="v3", path="flows/other.py")
    with pytest.raises(FlowLoadError, match="404") as info:
        storage.get_flow()
    message = str(info.value)
    for part in ("'flows/other.py'", "pipelines", "'v3'"):
        assert part in message


@pytest.mark.parametrize("service", SERVICES)
def test_a_refused_token_is_a_401_naming_the_secret_not_its_value(
    service: str, repo_host: RepoHost
) -> None:
    repo_host.add("acme/pipelines", "v2", "flows/roundtrip.py", SCRIPT)
    wrong = "bot:wrong-token-d41d8" if service == "bitbucket-cloud" else "wrong-token-d41d8"
    storage = _make(service, repo_host, ref="v2", access_token_secret="MY_REPO_TOKEN")
    refused = r"401.*secret 'MY_REPO_TOKEN' was refused"
    with (
        context(secrets={"MY_REPO_TOKEN": wrong}),
        pytest.raises(FlowLoadError, match=refused) as info,
    ):
        storage.get_flow()
    assert "wrong-token-d41d8" not in str(info.value)


@pytest.mark.parametrize("service", SERVICES)
def test_a_private_repository_without_a_token_says_which_secret_to_set(
    service: str, repo_host: RepoHost
) -> None:
    repo_host.add("acme/pipelines", "v2", "flows/roundtrip.py", SCRIPT)
    repo_host.private.add("acme/pipelines")
    storage = _make(service, repo_host, ref="v2")
    with pytest.raises(FlowLoadError, match=r"401: no token was sent.*_ACCESS_TOKEN"):
        storage.get_flow()


def test_a_named_secret_without_a_value_is_named(repo_host: RepoHost) -> None:
    storage = _make("github", repo_host, access_token_secret="ABSENT_TOKEN")
    with pytest.raises(MissingSecretError, match="'ABSENT_TOKEN'"):
        storage.get_flow()


def test_default_refs_and_tokens(repo_host: RepoHost, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub without a ref asks for the default branch (no ``ref``); GitLab and Bitbucket
    ask for ``master`` as Prefect 1 did; the default token comes from the environment."""
    repo_host.add("acme/pipelines", "trunk", "flows/roundtrip.py", SCRIPT, default=True)
    repo_host.add("acme/pipelines", "master", "flows/roundtrip.py", SCRIPT)
    repo_host.private.add("acme/pipelines")
    monkeypatch.setenv("GITHUB_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("GITLAB_ACCESS_TOKEN", TOKEN)
    assert _make("github", repo_host).get_flow().name == "roundtrip"
    assert "ref" not in repo_host.requests[-1]["query"]
    assert repo_host.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert _make("gitlab", repo_host).get_flow().name == "roundtrip"
    assert repo_host.requests[-1]["query"] == {"ref": "master"}
    assert repo_host.requests[-1]["headers"]["PRIVATE-TOKEN"] == TOKEN


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="repo='owner/name'"):
        GitHub("pipelines", "flow.py")
    with pytest.raises(ValueError, match="needs a project name"):
        Bitbucket("", "repo")
    with pytest.raises(ValueError, match="needs path="):
        GitLab("acme/pipelines").add_flow(load_script_flow())


def test_codecommit_fetches_with_get_file(
    repo_host: RepoHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    repo_host.add("pipelines", "main", "flows/roundtrip.py", SCRIPT, default=True)
    storage = CodeCommit(
        "pipelines",
        "flows/roundtrip.py",
        client_options={
            "endpoint_url": repo_host.url,
            "region_name": "eu-west-1",
            "aws_secret_access_key": "testing",
        },
    )
    doc = storage.serialize()
    assert doc["client_options"] == {"endpoint_url": repo_host.url, "region_name": "eu-west-1"}
    assert doc["commit"] is None and "ref" not in doc
    assert outcome(load_storage(doc).get_flow().run())["total"] == 18
    sent = repo_host.requests[-1]
    assert sent["json"] == {"repositoryName": "pipelines", "filePath": "flows/roundtrip.py"}

    missing = CodeCommit(
        "pipelines", "flows/gone.py", commit="v9", client_options=doc["client_options"]
    )
    with pytest.raises(FlowLoadError, match=r"no file 'flows/gone.py'.*'v9'.*FileDoesNotExist"):
        missing.get_flow()
    nowhere = CodeCommit("other-repo", "flows/roundtrip.py", client_options=doc["client_options"])
    with pytest.raises(FlowLoadError, match=r"other-repo.*RepositoryDoesNotExistException"):
        nowhere.get_flow()


def load_script_flow() -> Any:
    from support.flows import load_roundtrip_flow

    return load_roundtrip_flow()
