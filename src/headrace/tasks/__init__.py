"""Ready-made tasks: secrets (``PrefectSecret``/``SecretTask``, ``EnvVarSecret``)."""

from headrace.tasks.secrets import EnvVarSecret, PrefectSecret, SecretBase, SecretTask

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase", "SecretTask"]
