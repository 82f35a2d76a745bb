"""Server-side secrets, encrypted at rest with Fernet (the ``cryptography`` package).

The key is ``server.secrets_key`` (``HEADRACE__SERVER__SECRETS_KEY``, a urlsafe base64
Fernet key as ``headrace server secrets-key`` / ``Fernet.generate_key()`` prints). Without
one the server makes a key once and keeps it in ``<home_dir>/server-secrets.key`` (mode
0600), so the embedded default works and the database file alone never reveals a value.
Only the ciphertext is stored; list routes give names and times, never values.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from headrace.server.db.models import Secret
from headrace.server.errors import InvalidInputError, NotFoundError, SecretsKeyError
from headrace.wire.names import SECRET_NAME_PATTERN

__all__ = [
    "check_name",
    "delete_secret",
    "list_secrets",
    "load_fernet",
    "read_secret",
    "set_secret",
]


def _key_file(home_dir: str | None) -> Path:
    from headrace.configuration import config

    return Path(home_dir or config.home_dir).expanduser() / "server-secrets.key"


def load_fernet(secrets_key: str, home_dir: str | None = None) -> Fernet:
    """The cipher for ``secrets_key``, or for the key kept under ``home_dir`` (made once)."""
    key = secrets_key.strip()
    if not key:
        path = _key_file(home_dir)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        key = path.read_text().strip()
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise SecretsKeyError(
            "server.secrets_key is not a Fernet key (32 urlsafe-base64-encoded bytes)"
        ) from None


def set_secret(session: Session, fernet: Fernet, name: str, value: str, now: datetime) -> Secret:
    """Create or replace secret ``name``; only its ciphertext is stored."""
    token = fernet.encrypt(value.encode()).decode()
    row = session.scalar(sa.select(Secret).where(Secret.name == name).with_for_update())
    if row is None:
        row = Secret(name=name, ciphertext=token, created=now, updated=now)
        session.add(row)
    else:
        row.ciphertext = token
        row.updated = now
    session.flush()
    return row


def _row(session: Session, name: str) -> Secret:
    row = session.scalar(sa.select(Secret).where(Secret.name == name))
    if row is None:
        raise NotFoundError(f"secret {name!r} not found", field="name")
    return row


def read_secret(session: Session, fernet: Fernet, name: str) -> str:
    """The value of secret ``name`` (404 naming it when there is none)."""
    try:
        return fernet.decrypt(_row(session, name).ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError(
            f"secret {name!r} was stored under another server.secrets_key"
        ) from None


def list_secrets(session: Session) -> list[Secret]:
    """Every secret's row, by name (the routes show names and times, never values)."""
    return list(session.scalars(sa.select(Secret).order_by(Secret.name)))


def delete_secret(session: Session, name: str) -> None:
    session.delete(_row(session, name))


def check_name(name: str) -> str:
    """``name`` if it is a valid secret name (ASCII letters, digits, ``_ . -``), else a 422."""
    if not name or len(name) > 200 or not re.fullmatch(SECRET_NAME_PATTERN, name):
        raise InvalidInputError(
            f"secret name {name!r} must be 1-200 letters, digits, '_', '.' or '-'", field="name"
        )
    return name
