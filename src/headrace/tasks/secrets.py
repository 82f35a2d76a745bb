"""Tasks that return secrets (Prefect 1's ``prefect.tasks.secrets``).

``PrefectSecret(name)`` (alias ``SecretTask``) returns ``Secret(name).get()``;
``EnvVarSecret(name)`` returns an environment variable of the process the task runs in.
Their results are kept only as the secret's name (``SecretResult``): a secret never reaches
a result file or the server, and a restart fetches it again. Their values are masked in the
run's logs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from headrace.client.secrets import Secret, remember_secret_value
from headrace.core import Task
from headrace.engine.results import SecretResult

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase", "SecretTask"]


class SecretBase(Task):
    """A task whose result is a secret: its only ``Result`` is a ``SecretResult``, which
    keeps the secret's name (never its value), so a restarted run fetches it again instead
    of finding it in a file or on the server. Retried twice by default."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 2)
        kwargs.setdefault("retry_delay", 1.0)
        if kwargs.get("result") is not None:
            raise ValueError(
                f"{type(self).__name__} results are secrets: only their name is ever kept"
            )
        super().__init__(**kwargs)
        self.result = SecretResult(self)


class PrefectSecret(SecretBase):
    """Returns the secret ``name`` (local secrets first, then the server; see ``Secret``)."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.secret_name = name
        kwargs.setdefault("name", name)
        super().__init__(**kwargs)

    def run(self, name: str | None = None) -> Any:
        secret = name or self.secret_name
        if not secret:
            raise ValueError("PrefectSecret needs a secret name (at creation or in run())")
        return Secret(secret).get()


SecretTask = PrefectSecret


class EnvVarSecret(SecretBase):
    """Returns environment variable ``name`` (None when unset, unless ``raise_if_missing``),
    passed through ``cast`` when given (e.g. ``cast=int``)."""

    def __init__(
        self,
        name: str | None = None,
        cast: Callable[[str], Any] | None = None,
        raise_if_missing: bool = False,
        **kwargs: Any,
    ) -> None:
        self.var_name = name
        self.cast = cast
        self.raise_if_missing = raise_if_missing
        kwargs.setdefault("name", name)
        super().__init__(**kwargs)

    def run(
        self,
        name: str | None = None,
        cast: Callable[[str], Any] | None = None,
        raise_if_missing: bool | None = None,
    ) -> Any:
        var = name or self.var_name
        if not var:
            raise ValueError("EnvVarSecret needs a variable name (at creation or in run())")
        must = self.raise_if_missing if raise_if_missing is None else raise_if_missing
        value = os.environ.get(var)
        if value is None:
            if must:
                raise ValueError(f"environment variable {var!r} is not set")
            return None
        remember_secret_value(value)
        convert = cast or self.cast
        return convert(value) if convert is not None else value
