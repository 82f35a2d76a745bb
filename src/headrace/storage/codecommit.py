"""``CodeCommit``: a flow script in an AWS CodeCommit repository, fetched with boto3's
``GetFile`` when the flow loads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace._serializable.errors import FlowLoadError
from headrace.exceptions import MissingExtraError
from headrace.storage.credentials import public_options
from headrace.storage.hosted_git import RepositoryFileStorage
from headrace.utilities.secrets import redact

__all__ = ["CodeCommit"]

#: CodeCommit error codes that mean "no such repository, commit or file".
NOT_FOUND = frozenset(
    {
        "RepositoryDoesNotExistException",
        "FileDoesNotExistException",
        "CommitDoesNotExistException",
        "BranchDoesNotExistException",
    }
)


class CodeCommit(RepositoryFileStorage):
    """The flow script ``path`` in the CodeCommit repository ``repo`` at ``commit`` (a
    commit id, branch or tag; default the repository's default branch).

    ``client_options`` are the boto3 client's options (``region_name``, ``endpoint_url``,
    ``aws_access_key_id``...); credentials among them are used here but never recorded:
    where the flow loads they come from that machine's AWS configuration. Needs boto3
    (``pip install 'headrace[aws]'``).
    """

    serialized_fields = ("repo", "commit", "client_options")
    service = "CodeCommit"

    def __init__(
        self,
        repo: str,
        path: str,
        commit: str | None = None,
        client_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(repo, str) or not repo:
            raise ValueError(f"CodeCommit storage needs a repository name, not {repo!r}")
        super().__init__(path=path, ref=commit, **kwargs)
        self.repo = repo
        self._client_options = dict(client_options or {})

    def serialize(self) -> dict[str, Any]:
        doc = super().serialize()
        doc.pop("ref", None)  # recorded as "commit"
        doc.pop("access_token_secret", None)  # AWS credentials, never a token secret
        return doc

    @property
    def commit(self) -> str | None:
        return self.ref

    def __getstate__(self) -> dict[str, Any]:
        # A pickled flow carries its storage: credentials stay out of the flow file too.
        state = super().__getstate__()
        state["_client_options"] = public_options(self._client_options)
        return state

    @property
    def client_options(self) -> dict[str, Any]:
        """The client's options that are safe to record (credentials left out)."""
        return public_options(self._client_options)

    def repository(self) -> str:
        return f"CodeCommit repo {self.repo!r}"

    def fetch(self, path: str) -> bytes:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError as exc:
            raise MissingExtraError("CodeCommit storage", "boto3", "aws") from exc
        where = self.describe(path)
        params = {"repositoryName": self.repo, "filePath": path}
        if self.commit:
            params["commitSpecifier"] = self.commit
        try:
            client = boto3.client("codecommit", **self._client_options)
            answer = client.get_file(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in NOT_FOUND:
                raise FlowLoadError(
                    f"{where}: CodeCommit has no file {path!r} in {self.repository()} at "
                    f"{self.commit or 'the default branch'!r} ({code})"
                ) from None
            raise FlowLoadError(
                f"{where}: CodeCommit GetFile failed: {code}: {redact(str(error.get('Message')))}"
            ) from None
        except BotoCoreError as exc:
            raise FlowLoadError(
                f"{where}: cannot reach CodeCommit: {type(exc).__name__}: {redact(str(exc))}"
            ) from None
        return bytes(answer["fileContent"])
