"""Local HTTP stand-ins on 127.0.0.1 for the services the remote storages talk to.

No GitHub, GitLab, Bitbucket or AWS CodeCommit can be reached from the test machines, so
:class:`RepoHost` answers the few REST routes those storages use, from files it holds in
memory, with the services' own status codes: 404 for a missing repository, file or ref,
401 for a wrong token (or none, on a private repository). :class:`FlowDrop` is a real
HTTP server for ``Webhook`` storage: it stores a request's body under its path and returns
it on GET. Both are ``http.server`` servers in a thread.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

__all__ = ["FlowDrop", "RepoHost", "flow_drop", "repo_host"]

TOKEN = "host-token-5f3a9c"  # the one token RepoHost accepts
CODECOMMIT_TARGET = "CodeCommit_20150413.GetFile"


@dataclass
class RepoHost:
    """Files by (repository, ref, path); ``private`` repositories need :data:`TOKEN`."""

    url: str = ""
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    private: set[str] = field(default_factory=set)
    default_refs: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, repo: str, ref: str, path: str, data: bytes, default: bool = False) -> None:
        self.files[(repo, ref, path)] = data
        if default:
            self.default_refs[repo] = ref

    def answer(self, repo: str, ref: str | None, path: str, token: str | None) -> tuple[int, bytes]:
        if token is not None and token != TOKEN:
            return 401, b'{"message": "Bad credentials"}'
        if repo in self.private and token is None:
            return 401, b'{"message": "Requires authentication"}'
        ref = ref or self.default_refs.get(repo, "")
        data = self.files.get((repo, ref, path))
        if data is None:
            return 404, b'{"message": "Not Found"}'
        return 200, data


class _RepoHandler(BaseHTTPRequestHandler):
    server: Any

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization")
        if value is None:
            return None
        scheme, _, credentials = value.partition(" ")
        if scheme == "Basic":
            user, _, password = base64.b64decode(credentials).decode().partition(":")
            return password if user == "bot" else "wrong-user"
        return credentials

    def do_GET(self) -> None:
        host: RepoHost = self.server.host
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        host.requests.append({"path": parts.path, "query": query, "headers": dict(self.headers)})
        # GitHub: /repos/{owner}/{name}/contents/{path...}
        if segments[:1] == ["repos"] and segments[3:4] == ["contents"]:
            if self.headers.get("Accept") != "application/vnd.github.raw":
                return self._send(415, b'{"message": "ask for the raw file"}')
            repo = f"{segments[1]}/{segments[2]}"
            status, body = host.answer(
                repo, query.get("ref"), "/".join(segments[4:]), self._bearer()
            )
            return self._send(status, body)
        # GitLab: /api/v4/projects/{id}/repository/files/{path}/raw?ref=
        if segments[:3] == ["api", "v4", "projects"] and segments[-1] == "raw":
            project, path = segments[3], segments[6]
            if "ref" not in query:
                return self._send(400, b'{"error": "ref is missing"}')
            status, body = host.answer(
                project, query["ref"], path, self.headers.get("PRIVATE-TOKEN")
            )
            return self._send(status, body)
        # Bitbucket Server: /rest/api/1.0/projects/{key}/repos/{slug}/raw/{path...}?at=
        if segments[:4] == ["rest", "api", "1.0", "projects"] and segments[7:8] == ["raw"]:
            repo = f"{segments[4]}/{segments[6]}"
            status, body = host.answer(
                repo, query.get("at"), "/".join(segments[8:]), self._bearer()
            )
            return self._send(status, body)
        # Bitbucket Cloud: /2.0/repositories/{workspace}/{slug}/src/{ref}/{path...}
        if segments[:2] == ["2.0", "repositories"] and segments[4:5] == ["src"]:
            repo = f"{segments[2]}/{segments[3]}"
            status, body = host.answer(repo, segments[5], "/".join(segments[6:]), self._bearer())
            return self._send(status, body)
        return self._send(404, b'{"message": "no such route"}')

    def do_POST(self) -> None:
        """AWS CodeCommit's JSON protocol: ``GetFile`` only."""
        host: RepoHost = self.server.host
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        host.requests.append({"path": self.path, "json": body, "headers": dict(self.headers)})
        ctype = "application/x-amz-json-1.1"
        if self.headers.get("X-Amz-Target") != CODECOMMIT_TARGET:
            error = {"__type": "UnknownOperationException", "message": "only GetFile"}
            return self._send(400, json.dumps(error).encode(), ctype)
        if "AWS4-HMAC-SHA256" not in self.headers.get("Authorization", ""):
            error = {"__type": "MissingAuthenticationTokenException", "message": "unsigned"}
            return self._send(400, json.dumps(error).encode(), ctype)
        repo = body["repositoryName"]
        # a signed request stands for valid AWS credentials (the signature is not checked)
        status, data = host.answer(repo, body.get("commitSpecifier"), body["filePath"], TOKEN)
        if status != 200:
            known = {k[0] for k in host.files}
            code = (
                "FileDoesNotExistException" if repo in known else "RepositoryDoesNotExistException"
            )
            error = {"__type": code, "message": f"{body['filePath']} not found"}
            return self._send(400, json.dumps(error).encode(), ctype)
        answer = {
            "commitId": "0" * 40,
            "blobId": "1" * 40,
            "filePath": body["filePath"],
            "fileMode": "NORMAL",
            "fileSize": len(data),
            "fileContent": base64.b64encode(data).decode(),
        }
        return self._send(200, json.dumps(answer).encode(), ctype)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class FlowDrop:
    """What the Webhook stand-in holds: bodies by path, and the header it requires."""

    url: str = ""
    token: str = "drop-token-77d1e0"
    stored: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


class _DropHandler(BaseHTTPRequestHandler):
    server: Any

    def _send(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        drop: FlowDrop = self.server.drop
        return self.headers.get("Authorization") == f"Bearer {drop.token}"

    def _store(self) -> None:
        drop: FlowDrop = self.server.drop
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        drop.requests.append({"method": self.command, "path": self.path, "size": len(body)})
        if not self._authorized():
            return self._send(401, b"who are you?")
        drop.stored[urlsplit(self.path).path] = body
        return self._send(201, b'{"stored": true}')

    do_POST = do_PUT = do_PATCH = _store

    def do_GET(self) -> None:
        drop: FlowDrop = self.server.drop
        drop.requests.append({"method": "GET", "path": self.path})
        if not self._authorized():
            return self._send(401, b"who are you?")
        data = drop.stored.get(urlsplit(self.path).path)
        return self._send(404, b"nothing here") if data is None else self._send(200, data)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler], attr: str, state: Any) -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    setattr(server, attr, state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def repo_host() -> Iterator[RepoHost]:
    """A running :class:`RepoHost` stand-in (GitHub, GitLab, Bitbucket, CodeCommit)."""
    yield from _serve(_RepoHandler, "host", RepoHost())


@pytest.fixture
def flow_drop() -> Iterator[FlowDrop]:
    """A running :class:`FlowDrop` (the Webhook storage's server)."""
    yield from _serve(_DropHandler, "drop", FlowDrop())
