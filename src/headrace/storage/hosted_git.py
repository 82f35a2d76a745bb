"""Flow scripts in repositories on a git hosting service, fetched through its REST API when
the flow loads: ``GitHub`` (contents API), ``GitLab`` (repository files API) and
``Bitbucket`` (Server's raw-file API, or Cloud's src API with ``workspace=``).

Nothing is uploaded: :meth:`build` only runs the health checks, which fetch the script
as the flow's run will. One file is fetched, never a clone. The access token is the
secret named ``access_token_secret`` (default: the service's ``<SERVICE>_ACCESS_TOKEN``
secret or environment variable when it exists, else no token); only its name is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx

from headrace._serializable.errors import FlowLoadError
from headrace.storage.base import Storage
from headrace.storage.credentials import optional_secret, secret_value
from headrace.storage.flowfile import load_flow_source
from headrace.utilities.secrets import redact

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Bitbucket", "GitHub", "GitLab", "RepositoryFileStorage"]


class RepositoryFileStorage(Storage):
    """Base of the storages whose flow is one script file in a hosted repository:
    ``path`` in the repository at ``ref``. Subclasses say how to fetch it (:meth:`fetch`)
    and how errors name the repository (:meth:`repository`)."""

    serialized_fields: ClassVar[tuple[str, ...]] = ("path", "ref", "access_token_secret")
    #: The service's name, for messages.
    service: ClassVar[str] = ""
    #: The secret (or environment variable) tried when ``access_token_secret`` is None.
    default_secret: ClassVar[str] = ""
    #: The ref a fetch uses when none is given (``None``: the service's default branch).
    default_ref: ClassVar[str | None] = None

    def __init__(
        self,
        path: str | None = None,
        ref: str | None = None,
        access_token_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if path is not None and (not isinstance(path, str) or not path.strip("/")):
            raise ValueError(f"{type(self).__name__} storage: path must name a file, not {path!r}")
        self.path = path.strip("/") if path is not None else None
        self.ref = ref
        self.access_token_secret = access_token_secret

    def repository(self) -> str:
        """How messages name the repository."""
        raise NotImplementedError

    def fetch(self, path: str) -> bytes:
        """The bytes of ``path`` in the repository at the storage's ref."""
        raise NotImplementedError(f"{type(self).__name__} does not implement fetch")

    def token(self) -> str | None:
        if self.access_token_secret is not None:
            return secret_value(self.access_token_secret, f"{self.service} storage")
        return optional_secret(self.default_secret)

    def describe(self, location: str | None = None) -> str:
        where = f" ({location!r} in {self.repository()}@{self.ref or self.default_ref or 'HEAD'})"
        return f"{type(self).__name__} storage{where if location is not None else ''}"

    # ---- storing and loading -----------------------------------------------------------

    def _path(self) -> str:
        if self.path is None:
            raise ValueError(f"{type(self).__name__} storage needs path= naming the flow script")
        return self.path

    def store_flow(self, flow: Flow) -> str:
        return self._path()

    def get_flow(self, flow_location: str | None = None) -> Flow:
        if flow_location is None and not self.flows:
            return self.load_flow(self._path(), None)
        return super().get_flow(flow_location)

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        source = self.fetch(location)
        name = f"{self.repository()}/{location}@{self.ref or self.default_ref or 'HEAD'}"
        return load_flow_source(source, flow_name, self.describe(location), name)

    # ---- one HTTP request ----------------------------------------------------------------

    def get(
        self,
        url: str,
        path: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> bytes:
        """GET ``url`` (the file ``path``); a 404 or a refused token is a
        :class:`FlowLoadError` naming the repository, path and ref, or the secret."""
        where = self.describe(path)
        try:
            with httpx.Client(timeout=60.0, follow_redirects=True) as client:
                response = client.get(url, headers=headers, params=params, auth=auth)
        except httpx.HTTPError as exc:
            raise FlowLoadError(
                f"{where}: cannot reach {self.service}: {type(exc).__name__}: {redact(str(exc))}"
            ) from None
        status = response.status_code
        if status in (401, 403):
            secret = self.access_token_secret or self.default_secret
            sent = "Authorization" in (headers or {}) or "PRIVATE-TOKEN" in (headers or {})
            sent = sent or auth is not None
            if sent:
                why = f"the token from secret {secret!r} was refused"
            else:
                why = (
                    f"no token was sent (set the secret {secret!r}, or name one with "
                    "access_token_secret=)"
                )
            raise FlowLoadError(f"{where}: {self.service} answered {status}: {why}")
        if status == 404:
            raise FlowLoadError(
                f"{where}: {self.service} answered 404: no file {path!r} in "
                f"{self.repository()} at ref {self.ref or self.default_ref or 'HEAD'!r} "
                "(or the repository is private and the token cannot see it)"
            )
        if status >= 400:
            raise FlowLoadError(
                f"{where}: {self.service} answered {status} {response.reason_phrase}: "
                f"{redact(response.text[:300])}"
            )
        return response.content


def _base(url: str) -> str:
    url = url.rstrip("/")
    return url if "://" in url else f"https://{url}"


class GitHub(RepositoryFileStorage):
    """The flow script ``path`` in the GitHub repository ``repo`` (``"owner/name"``) at
    ``ref`` (branch, tag or commit; default the repository's default branch), fetched
    through the contents API. ``base_url`` points at GitHub Enterprise
    (``https://host/api/v3``); the token is the secret ``access_token_secret`` (default:
    ``GITHUB_ACCESS_TOKEN`` when set)."""

    serialized_fields = ("repo", "base_url")
    service = "GitHub"
    default_secret = "GITHUB_ACCESS_TOKEN"

    def __init__(
        self,
        repo: str,
        path: str,
        ref: str | None = None,
        access_token_secret: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(repo, str) or repo.count("/") != 1 or not all(repo.split("/")):
            raise ValueError(f"GitHub storage needs repo='owner/name', not {repo!r}")
        super().__init__(path=path, ref=ref, access_token_secret=access_token_secret, **kwargs)
        self.repo = repo
        self.base_url = base_url

    def repository(self) -> str:
        return f"GitHub repo {self.repo!r}"

    def fetch(self, path: str) -> bytes:
        base = _base(self.base_url or "https://api.github.com")
        headers = {"Accept": "application/vnd.github.raw"}
        token = self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        params = {"ref": self.ref} if self.ref else None
        url = f"{base}/repos/{self.repo}/contents/{quote(path)}"
        return self.get(url, path, headers=headers, params=params)


class GitLab(RepositoryFileStorage):
    """The flow script ``path`` in the GitLab project ``repo`` (``"group/project"`` or its
    numeric id) on ``host`` (default ``https://gitlab.com``) at ``ref`` (default
    ``"master"``, as in Prefect 1), fetched through the repository files API. The token is
    the secret ``access_token_secret`` (default: ``GITLAB_ACCESS_TOKEN`` when set)."""

    serialized_fields = ("repo", "host")
    service = "GitLab"
    default_secret = "GITLAB_ACCESS_TOKEN"
    default_ref = "master"

    def __init__(
        self,
        repo: str,
        host: str | None = None,
        path: str | None = None,
        ref: str | None = None,
        access_token_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(repo, str | int) or not str(repo):
            raise ValueError(f"GitLab storage needs repo='group/project' or an id, not {repo!r}")
        super().__init__(path=path, ref=ref, access_token_secret=access_token_secret, **kwargs)
        self.repo = str(repo)
        self.host = host

    def repository(self) -> str:
        return f"GitLab project {self.repo!r}"

    def fetch(self, path: str) -> bytes:
        base = _base(self.host or "https://gitlab.com")
        headers = {}
        token = self.token()
        if token:
            headers["PRIVATE-TOKEN"] = token
        url = (
            f"{base}/api/v4/projects/{quote(self.repo, safe='')}/repository/files/"
            f"{quote(path, safe='')}/raw"
        )
        params = {"ref": self.ref or "master"}
        return self.get(url, path, headers=headers, params=params)


class Bitbucket(RepositoryFileStorage):
    """The flow script ``path`` in the Bitbucket repository ``repo`` at ``ref`` (default
    ``"master"``, as in Prefect 1).

    Without ``workspace`` this is Bitbucket Server (or Data Center) at ``host`` (default
    ``https://bitbucket.org``): the repository belongs to the project key ``project`` and
    the file comes from the raw-file API. With ``workspace`` it is Bitbucket Cloud: the
    file comes from the src API of ``host`` (default ``https://api.bitbucket.org``). The
    token is the secret ``access_token_secret`` (default: ``BITBUCKET_ACCESS_TOKEN`` when
    set), sent as a bearer token, or, on Cloud, as ``user:app-password`` basic
    credentials when it has that form."""

    serialized_fields = ("project", "repo", "host", "workspace")
    service = "Bitbucket"
    default_secret = "BITBUCKET_ACCESS_TOKEN"
    default_ref = "master"

    def __init__(
        self,
        project: str,
        repo: str,
        host: str | None = None,
        path: str | None = None,
        ref: str | None = None,
        access_token_secret: str | None = None,
        workspace: str | None = None,
        **kwargs: Any,
    ) -> None:
        for name, value in (("project", project), ("repo", repo)):
            if not isinstance(value, str) or not value or "/" in value:
                raise ValueError(f"Bitbucket storage needs a {name} name, not {value!r}")
        super().__init__(path=path, ref=ref, access_token_secret=access_token_secret, **kwargs)
        self.project = project
        self.repo = repo
        self.host = host
        self.workspace = workspace

    def repository(self) -> str:
        owner = f"workspace {self.workspace!r}" if self.workspace else f"project {self.project!r}"
        return f"Bitbucket repo {self.repo!r} of {owner}"

    def fetch(self, path: str) -> bytes:
        ref = self.ref or "master"
        token = self.token()
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = None
        if self.workspace:
            base = _base(self.host or "https://api.bitbucket.org")
            url = (
                f"{base}/2.0/repositories/{quote(self.workspace)}/{quote(self.repo)}/src/"
                f"{quote(ref, safe='')}/{quote(path)}"
            )
            if token and ":" in token:
                user, _, password = token.partition(":")
                auth = (user, password)
            elif token:
                headers["Authorization"] = f"Bearer {token}"
            return self.get(url, path, headers=headers, auth=auth)
        base = _base(self.host or "https://bitbucket.org")
        url = (
            f"{base}/rest/api/1.0/projects/{quote(self.project)}/repos/{quote(self.repo)}/"
            f"raw/{quote(path)}"
        )
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.get(url, path, headers=headers, params={"at": ref})
