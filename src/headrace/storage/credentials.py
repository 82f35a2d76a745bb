"""Credentials of storages: secrets resolved by name when a flow is stored or loaded, and
the settings a storage may record without them.

A storage's JSON form travels to the server and to every agent, so it holds a secret only
by *name*; the value is looked up where the flow loads, with Prefect 1's ``Secret`` rules
(run context, ``[context.secrets]`` config, then the server during a backend run), and is
remembered for masking the moment it is known, so no log line or state message shows it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from headrace._serializable.errors import StorageError
from headrace.utilities.secrets import remember_secrets

__all__ = ["MissingSecretError", "optional_secret", "public_options", "render", "secret_value"]

#: Option names whose values are credentials (left out of every JSON form).
SECRET_KEY = re.compile(
    r"secret|password|token|credential|access_key|^key$|session|connection_string", re.I
)

_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingSecretError(StorageError, LookupError):
    """A secret a storage needs has no value here; ``secret`` is its name."""

    def __init__(self, message: str, secret: str) -> None:
        super().__init__(message)
        self.secret = secret

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def public_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without credentials, nested mappings included (they must come from the
    environment or a named secret wherever the flow loads)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if SECRET_KEY.search(str(key)):
            continue
        out[key] = public_options(value) if isinstance(value, Mapping) else value
    return out


def _lookup(name: str) -> tuple[bool, Any]:
    # The deployment layer sits below the client: the lookup is a documented delegation
    # (pyproject's ignore_imports), made only when a storage needs a secret's value.
    from headrace.client.errors import SecretNotFoundError
    from headrace.client.secrets import Secret

    try:
        return True, Secret(name).get()
    except SecretNotFoundError:
        return False, None


def secret_value(name: str, what: str) -> str:
    """The value of the secret ``name``, as text; ``what`` (the storage) goes in the error,
    which names the secret and never a value."""
    found, value = _lookup(name)
    if not found or value is None:
        raise MissingSecretError(
            f"{what} needs the secret {name!r}, which has no value here (set it with "
            f"HEADRACE__CONTEXT__SECRETS__{name}, [context.secrets] in the config, the run "
            "context's secrets, or the server's secrets)",
            secret=name,
        )
    text = value if isinstance(value, str) else str(value)
    remember_secrets([text])
    return text


def optional_secret(name: str, environment: bool = True) -> str | None:
    """The secret ``name`` if it has a value (or, with ``environment``, the environment
    variable of that name), else ``None``: Prefect's default token names are optional."""
    found, value = _lookup(name)
    if not found and environment:
        value = os.environ.get(name)
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    remember_secrets([text])
    return text


def render(value: Any, what: str) -> Any:
    """``value`` with every ``${NAME}`` inside its strings replaced by the environment
    variable ``NAME`` or, when there is none, by the secret ``NAME`` (nested mappings and
    lists too). The values are masked from then on; the template itself is what a storage
    records."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in os.environ:
                found = os.environ[name]
                remember_secrets([found])
                return found
            try:
                return secret_value(name, what)
            except MissingSecretError:
                raise MissingSecretError(
                    f"{what}: ${{{name}}} has no value here: set the environment variable "
                    f"{name} or the secret {name!r} (HEADRACE__CONTEXT__SECRETS__{name}, "
                    "[context.secrets] in the config, the run context's secrets, or the "
                    "server's secrets)",
                    secret=name,
                ) from None

        return _TEMPLATE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: render(v, what) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, what) for v in value]
    return value
