"""headrace's configuration: documented defaults, a user TOML file, environment overrides.

Read it as ``headrace.config.engine.executor.default_class`` or
``headrace.config["server"]["port"]``. Precedence, lowest first: the defaults shipped in
``headrace/config.toml``; the user file named by ``HEADRACE_CONFIG_PATH`` (default
``~/.headrace/config.toml``); environment variables ``HEADRACE__SECTION__KEY=value``, each
converted to the type of the default it overrides so ``HEADRACE__SERVER__PORT=8080`` is an
``int``. A key with no default is taken as a TOML literal when it parses as one, else a string.

Tests change settings for a block with ``with config.override(**{"server.port": 8080}):``,
which puts back exactly what was there when the block ends.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headrace.exceptions import ConfigError

__all__ = ["Config", "load_config", "reload_config"]

ENV_PREFIX = "HEADRACE__"
DEFAULTS_PATH = Path(__file__).with_name("config.toml")


class Config(Mapping[str, Any]):
    """A read-mostly nested mapping that also answers attribute access."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(
            self,
            "_data",
            {k: Config(v) if isinstance(v, Mapping) else v for k, v in (data or {}).items()},
        )

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._data[key] = Config(value) if isinstance(value, Mapping) else value

    def __setitem__(self, key: str, value: Any) -> None:
        self.__setattr__(key, value)

    def __repr__(self) -> str:
        return f"<Config {sorted(self._data)}>"

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() if isinstance(v, Config) else v for k, v in self._data.items()}

    @contextmanager
    def override(
        self, values: Mapping[str, Any] | None = None, /, **dotted: Any
    ) -> Iterator[Config]:
        """Set keys for the ``with`` block, then put back exactly what was there.

        Keys are dotted paths, ``config.override(**{"server.port": 8080})``, or nested
        mappings, ``config.override({"server": {"port": 8080}})``: a nested form changes only
        the keys it names, while a dotted path whose value is a mapping replaces that whole
        section (``**{"context.secrets": {"A": "1"}}``). Keys and sections that did not exist
        are removed again afterwards; replaced sections come back as the same objects. For
        tests: the engine reads settings at its entry points, so change them before a run.
        """
        changes = dict(_dotted(values or {}))
        changes.update(dotted)
        undo: list[tuple[Config, str, bool, Any]] = []
        try:
            for path, value in changes.items():
                *sections, key = path.split(".")
                node = self
                for part in sections:
                    child = node._data.get(part)
                    if child is None:
                        undo.append((node, part, False, None))
                        child = node._data[part] = Config()
                    elif not isinstance(child, Config):
                        raise ConfigError(
                            f"config.override: {path!r} nests under {part!r}, which is a "
                            f"{type(child).__name__} value, not a section"
                        )
                    node = child
                undo.append((node, key, key in node._data, node._data.get(key)))
                node[key] = value
            yield self
        finally:
            for node, key, existed, previous in reversed(undo):
                if existed:
                    node._data[key] = previous
                else:
                    node._data.pop(key, None)


def _dotted(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` as ``("a.b", 1)``: the leaves of a nested mapping by dotted path."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _dotted(value, f"{path}.")
        else:
            yield path, value


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _convert(raw: str, default: Any, name: str) -> Any:
    """Convert an environment string to the type of the default it overrides."""
    try:
        if isinstance(default, bool):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, list):
            text = raw.strip()
            if text.startswith(("[", "{")):
                value = json.loads(text)
                if not isinstance(value, list):
                    raise ValueError("not a list")
                return value
            return [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(default, str):
            return raw
    except ValueError as exc:
        raise ConfigError(
            f"environment variable {name}={raw!r} is not a valid {type(default).__name__}: {exc}"
        ) from None
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        raw_path = [part for part in name[len(ENV_PREFIX) :].split("__") if part]
        path = [part.lower() for part in raw_path]
        if not path:
            continue
        if len(path) == 3 and path[:2] == ["context", "secrets"]:
            path[2] = raw_path[2]  # a secret's name keeps its case, as in Prefect
        node = data
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(path[: depth + 1])
                raise ConfigError(
                    f"environment variable {name} nests under {where!r}, which is a "
                    f"{type(child).__name__} value, not a section"
                )
            node = child
        default = node.get(path[-1])
        if isinstance(default, dict):
            raise ConfigError(
                f"environment variable {name} would replace the section "
                f"{'.'.join(path)!r} with a single value; set its keys instead"
            )
        node[path[-1]] = _convert(raw, default, name)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def load_config(
    user_path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Build a fresh :class:`Config` from defaults, the user file and the environment."""
    environ = os.environ if environ is None else environ
    data = _read_toml(DEFAULTS_PATH)
    path = Path(
        user_path or environ.get("HEADRACE_CONFIG_PATH") or "~/.headrace/config.toml"
    ).expanduser()
    if path.is_file():
        _merge(data, _read_toml(path))
    _apply_env(data, environ)
    return Config(data)


config: Config = load_config()


def reload_config(**kwargs: Any) -> Config:
    """Re-read every source into the shared ``headrace.config`` object, in place."""
    fresh = load_config(**kwargs)
    config._data.clear()
    config._data.update(fresh._data)
    return config
