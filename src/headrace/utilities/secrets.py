"""The one masking path for secrets: every text that leaves a process goes through :func:`redact`.

Log records sent to the server, state messages (an exception's text in a ``Failed``
state, tracebacks), what an agent prints of a flow run's output and the message of a run
whose process died all pass through here, so a secret is masked the same way whichever
road it takes. A process learns its secrets in three ways:

- :func:`remember_secrets` (the runner adds the values of the environment variables its
  flow's storage names as ``secrets``; an agent adds those of each run it starts);
- the ``[context.secrets]`` config section and the API key (``api.key``);
- environment variables whose name says they hold one (``HEADRACE__API__KEY``, any
  ``HEADRACE__...KEY``, ``...TOKEN``, ``...PASSWORD``, ``...SECRET``), read by
  :func:`environment_secrets`.

Values shorter than :data:`MIN_LENGTH` characters are never masked: masking ``"1"`` would
wreck every message and hide nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping

__all__ = [
    "MASK",
    "MIN_LENGTH",
    "configured_secrets",
    "environment_secrets",
    "forget_secrets",
    "known_secrets",
    "redact",
    "remember_secrets",
]

MASK = "********"
MIN_LENGTH = 4

#: Environment variable names whose values are secrets wherever they appear.
SECRET_NAME = re.compile(
    r"(^HEADRACE__.*KEY$)|(TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|API_?KEY|ACCESS_KEY)",
    re.IGNORECASE,
)

_LOCK = threading.Lock()
_REMEMBERED: set[str] = set()
_SORTED: list[list[str]] = [[]]  # the remembered values, longest first (one shared list)


def remember_secrets(values: Iterable[object]) -> None:
    """Add ``values`` to this process's secrets: :func:`redact` masks them from now on."""
    fresh = {str(v) for v in values if v is not None and len(str(v)) >= MIN_LENGTH}
    if not fresh - _REMEMBERED:
        return
    with _LOCK:
        _REMEMBERED.update(fresh)
        _SORTED[0] = sorted(_REMEMBERED, key=len, reverse=True)
        _AMBIENT.clear()


def forget_secrets() -> None:
    """Forget what :func:`remember_secrets` was told (tests; a worker between runs)."""
    with _LOCK:
        _REMEMBERED.clear()
        _SORTED[0] = []
        _AMBIENT.clear()


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the variables in ``environ`` (default ``os.environ``) whose names say they
    hold a secret (see :data:`SECRET_NAME`)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_LENGTH]


def configured_secrets() -> list[str]:
    """The ``[context.secrets]`` config values and the API key."""
    from headrace.configuration import config

    found: list[str] = []
    secrets = config.get("context", {}).get("secrets", {})
    if hasattr(secrets, "values"):
        found.extend(str(v) for v in secrets.values())
    key = config.get("api", {}).get("key")
    if key:
        found.append(str(key))
    return [v for v in found if len(v) >= MIN_LENGTH]


def known_secrets(fresh: bool = False) -> list[str]:
    """Every secret this process knows, longest first (``fresh``: read the config and the
    environment again now, as a run does when it starts)."""
    if fresh:
        _AMBIENT.clear()
    return list(_ambient())


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret (and each of ``extra``) replaced by :data:`MASK`.

    Cheap when there is nothing to hide: one substring test per secret.
    """
    if not text:
        return text
    values = _ambient()
    wanted = [v for v in extra if len(v) >= MIN_LENGTH] if extra else None
    if wanted:
        values = sorted(set(values) | set(wanted), key=len, reverse=True)
        return _masked(text, values)
    # The same short texts come back for every task run ("Starting task run."): answered
    # from a small memo, kept only while the list of secrets is the same list object.
    memo = _MEMO[0] if _MEMO and _MEMO[0][0] is values else None
    if memo is not None:
        done = memo[1].get(text)
        if done is not None:
            return done
    masked = _masked(text, values)
    if len(text) <= _MEMO_TEXT:
        if memo is None or len(memo[1]) >= _MEMO_SIZE:
            memo = (values, {})
            _MEMO[:] = [memo]
        memo[1][text] = masked
    return masked


_MEMO: list[tuple[list[str], dict[str, str]]] = []
_MEMO_TEXT, _MEMO_SIZE = 200, 1024


def _masked(text: str, values: Iterable[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


_AMBIENT: list[tuple[object, list[str]]] = []


def _ambient() -> list[str]:
    """Every known secret, longest first: the remembered ones, the config's and the
    environment's. Cached while the environment keeps its size (one cheap check per call
    instead of a scan of the environment and the config for every log line);
    :func:`remember_secrets` and ``known_secrets(fresh=True)`` (a run's start) drop the
    cache, so a changed config is read again then."""
    stamp = len(os.environ)
    cached = _AMBIENT[0] if _AMBIENT else None
    if cached is not None and cached[0] == stamp:
        return cached[1]
    values = sorted(
        set(_SORTED[0]) | set(configured_secrets()) | set(environment_secrets()),
        key=len,
        reverse=True,
    )
    _AMBIENT[:] = [(stamp, values)]
    return values
