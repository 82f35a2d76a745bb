"""Server-side secrets: set and delete (admin), list names, read one value (for runs)."""

from __future__ import annotations

from typing import Annotated

from cryptography.fernet import Fernet
from fastapi import APIRouter, Path, Request

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.secrets import (
    check_name,
    delete_secret,
    load_fernet,
    read_secret,
    set_secret,
)
from headrace.server.domain.secrets import (
    list_secrets as secret_rows,
)
from headrace.server.http.deps import DB, WHO, get_settings
from headrace.wire import SecretIn, SecretOut, SecretValueOut
from headrace.wire.names import SECRET_NAME_PATTERN

__all__ = ["router"]

router = APIRouter(tags=["secrets"])

#: A secret's name in a path, with the rule the schema documents (checked again below).
SecretPathName = Annotated[
    str, Path(min_length=1, max_length=200, pattern=SECRET_NAME_PATTERN, description="Secret name")
]


def _fernet(request: Request) -> Fernet:
    cached: Fernet | None = getattr(request.app.state, "secrets_fernet", None)
    if cached is None:
        cached = load_fernet(get_settings(request).secrets_key)
        request.app.state.secrets_fernet = cached
    return cached


@router.put("/secrets/{name}", response_model=SecretOut, summary="Set a secret (admin)")
def put_secret(
    name: SecretPathName, body: SecretIn, request: Request, db: Database = DB, who: Principal = WHO
) -> SecretOut:
    who.require_admin("setting a secret")
    fernet = _fernet(request)
    with db.session() as s:
        return SecretOut.model_validate(
            set_secret(s, fernet, check_name(name), body.value, utcnow())
        )


@router.get("/secrets", response_model=list[SecretOut], summary="Secret names (never values)")
def list_secrets(db: Database = DB, who: Principal = WHO) -> list[SecretOut]:
    with db.session(write=False) as s:
        return [SecretOut.model_validate(r) for r in secret_rows(s)]


@router.get("/secrets/{name}", response_model=SecretValueOut, summary="One secret's value")
def get_secret(
    name: SecretPathName, request: Request, db: Database = DB, who: Principal = WHO
) -> SecretValueOut:
    fernet = _fernet(request)
    with db.session(write=False) as s:
        return SecretValueOut(name=name, value=read_secret(s, fernet, check_name(name)))


@router.delete("/secrets/{name}", status_code=204, summary="Delete a secret (admin)")
def remove_secret(name: SecretPathName, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("deleting a secret")
    with db.session() as s:
        delete_secret(s, check_name(name))
