"""API keys: created once, shown once, stored only as a SHA-256 digest.

A key is 32 random bytes (``hr_`` + URL-safe base64), so a fast unsalted digest is enough to
make the stored form useless to a thief: nobody can brute-force 256 bits. A key carries the
projects it may see (``project_ids``); ``None`` makes it an admin key that sees everything
and may manage projects, keys and limits. When ``server.require_api_key`` is off, requests
without a key act as admin; a key that is sent is always checked and scopes the request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.database import rowcount
from headrace.server.db.models import ApiKey, Project
from headrace.server.errors import AuthError, ForbiddenError, NotFoundError

__all__ = [
    "RUN_TOKEN_PREFIX",
    "Principal",
    "create_api_key",
    "create_run_token",
    "delete_api_key",
    "hash_key",
    "issue_api_key",
    "list_api_keys",
    "principal_for_key",
]

KEY_PREFIX = "hr_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``project_ids`` None sees every project."""

    project_ids: frozenset[str] | None = None
    key_id: str | None = None
    #: A per-run token's flow run: the caller may only report for that run.
    flow_run_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.project_ids is None

    def require_admin(self, what: str) -> None:
        if not self.is_admin:
            raise ForbiddenError(f"{what} needs an admin API key (this key is project-scoped)")

    def can_see(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids

    def check_project(self, project_id: str, what: str) -> None:
        """Raise 404 for a resource in a project the key may not see (no existence leak)."""
        if not self.can_see(project_id):
            raise NotFoundError(f"{what} not found")

    def owns_agent(self, agent_projects: list[str] | None) -> bool:
        """Whether this caller may see and use an agent registered by a key of
        ``agent_projects`` (None: an admin's): an admin any agent, a project-scoped key
        only agents registered for projects all among its own."""
        if self.project_ids is None:
            return True
        return agent_projects is not None and set(agent_projects) <= self.project_ids

    def scope(self, column: Any) -> Any:
        """A WHERE clause restricting ``column`` (a project id column) to visible projects."""
        if self.project_ids is None:
            return sa.true()
        return column.in_(sorted(self.project_ids))


def principal_for_key(session: Session, key: str | None, required: bool) -> Principal:
    """Resolve the ``Authorization`` key of a request into a :class:`Principal`."""
    if not key:
        if required:
            raise AuthError("this server requires an API key: send 'Authorization: Bearer <key>'")
        return Principal()
    row = session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None:
        raise AuthError(f"unknown API key {key[:7]}...")
    ids = None if row.project_ids is None else frozenset(row.project_ids)
    if row.flow_run_id is not None:
        expires = row.expires
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires is not None and expires <= datetime.now(UTC):
            raise AuthError(
                f"the run token of flow run {row.flow_run_id} expired at {expires.isoformat()}"
            )
        return Principal(project_ids=ids or frozenset(), key_id=row.id, flow_run_id=row.flow_run_id)
    return Principal(project_ids=ids, key_id=row.id)


def create_api_key(
    session: Session, name: str, project_ids: Sequence[str] | None = None
) -> tuple[ApiKey, str]:
    """Create a key (``project_ids`` None: admin); returns the row and the clear key."""
    if project_ids is not None:
        found = set(session.scalars(sa.select(Project.id).where(Project.id.in_(project_ids))))
        missing = [p for p in project_ids if p not in found]
        if missing:
            raise NotFoundError(f"project {missing[0]} not found", field="project_ids")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        key_hash=hash_key(key),
        prefix=key[:8],
        project_ids=None if project_ids is None else sorted(set(project_ids)),
    )
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every API key a person made (per-run tokens left out)."""
    return list(session.scalars(sa.select(ApiKey).where(ApiKey.flow_run_id.is_(None))))


def delete_api_key(session: Session, key_id: str) -> None:
    """Delete key ``key_id``; :class:`NotFoundError` when there is none."""
    if not rowcount(session.execute(sa.delete(ApiKey).where(ApiKey.id == key_id))):
        raise NotFoundError(f"API key {key_id} not found")


RUN_TOKEN_PREFIX = "hrr_"


def create_run_token(
    session: Session, flow_run_id: str, project_id: str, ttl: float
) -> tuple[ApiKey, str]:
    """A per-run token: it may only ``POST /flow_runs/{flow_run_id}/report``, for ``ttl``
    seconds. What a runner gives its worker processes instead of its own API key."""
    from datetime import timedelta

    token = RUN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=f"run {flow_run_id}",
        key_hash=hash_key(token),
        prefix=token[:8],
        project_ids=[project_id],
        flow_run_id=flow_run_id,
        expires=datetime.now(UTC) + timedelta(seconds=ttl),
    )
    session.add(row)
    session.flush()
    return row, token


def issue_api_key(
    database_url: str | None = None, name: str = "admin", project_ids: Sequence[str] | None = None
) -> str:
    """Create a key directly in the database (no server needed) and return it in clear.

    This is how the first admin key of a server with ``require_api_key`` is made (e.g. by a
    CLI command); later keys can be created through ``POST /api/api_keys``.
    """
    from headrace.server.db.database import Database
    from headrace.server.settings import ServerSettings

    db = Database(ServerSettings.from_config(database_url=database_url).database_url)
    try:
        db.migrate()
        with db.session() as session:
            _row, key = create_api_key(session, name, project_ids)
        return key
    finally:
        db.dispose()
