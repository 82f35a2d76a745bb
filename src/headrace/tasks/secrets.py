"""Tasks that return secrets (Prefect 1's ``prefect.tasks.secrets``).

``PrefectSecret(name)`` (alias ``SecretTask``) returns ``Secret(name).get()``;
``EnvVarSecret(name)`` returns an environment variable of the process the task runs in.
Their results are never checkpointed (a secret never reaches a result file or the server as
a result), and their values are masked in the run's logs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from headrace.client.secrets import Secret, remember_secret_value
from headrace.core import Task

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase", "SecretTask"]


class SecretBase(Task):
    """A task whose result is a secret: never checkpointed; retried twice by default."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 2)
        kwargs.setdefault("retry_delay", 1.0)
        if kwargs.get("checkpoint") or kwargs.get("result") is not None:
            raise ValueError(f"{type(self).__name__} results are secrets: they are never kept")
        kwargs["checkpoint"] = False
        super().__init__(**kwargs)


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
