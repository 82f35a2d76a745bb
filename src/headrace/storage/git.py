"""``Git``: a flow script in a git repository, fetched (shallow) when the flow loads."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from headrace._serializable.errors import FlowLoadError
from headrace.storage.base import Storage
from headrace.storage.flowfile import load_flow_script

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Git"]


def _git(args: list[str], cwd: str, where: str) -> None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError as exc:
        raise FlowLoadError(f"{where}: the git command is not installed") from exc
    if proc.returncode != 0:
        raise FlowLoadError(
            f"{where}: git {' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout}"
        )


class Git(Storage):
    """The flow defined by the script ``flow_path`` in the git repository ``repo`` (a URL
    git understands, or a local path) at ``ref`` (a branch, tag or commit; default the
    remote's HEAD). Loading fetches only that commit (depth 1) into a temporary directory
    and runs the script. Credentials do not belong in ``repo``: use a credential helper or
    an SSH key where the flow runs.
    """

    serialized_fields = ("repo", "flow_path", "ref")

    def __init__(
        self,
        repo: str,
        flow_path: str,
        ref: str | None = None,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
    ) -> None:
        super().__init__(labels=labels, secrets=secrets)
        if not isinstance(repo, str) or not repo:
            raise ValueError(f"Git storage needs a repository, not {repo!r}")
        if "://" in repo and urlsplit(repo).password:
            raise ValueError(
                "Git storage: the repository URL carries a password; keep credentials out of "
                "it (they would be stored with the flow's metadata)"
            )
        path = PurePosixPath(flow_path)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"Git storage: flow_path must be relative to the repo: {flow_path!r}")
        self.repo = repo
        self.flow_path = str(path)
        self.ref = ref

    def store_flow(self, flow: Flow) -> str:
        return self.flow_path

    def get_flow(self, flow_location: str | None = None) -> Flow:
        if flow_location is None and not self.flows:
            return self.load_flow(self.flow_path, None)
        return super().get_flow(flow_location)

    def _url(self) -> str:
        if "://" in self.repo or self.repo.startswith("git@"):
            return self.repo
        return Path(self.repo).expanduser().absolute().as_uri()

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(location) + f" in {self.repo!r}@{self.ref or 'HEAD'}"
        checkout = tempfile.mkdtemp(prefix="headrace-git-")
        try:
            _git(["init", "-q"], checkout, where)
            _git(["fetch", "-q", "--depth", "1", self._url(), self.ref or "HEAD"], checkout, where)
            _git(["checkout", "-q", "FETCH_HEAD"], checkout, where)
            return load_flow_script(Path(checkout) / location, flow_name, where)
        finally:
            shutil.rmtree(checkout, ignore_errors=True)
