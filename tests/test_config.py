"""headrace.config: shipped defaults, the user TOML file, typed HEADRACE__ overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace.configuration import Config, load_config, reload_config
from headrace.exceptions import ConfigError, HeadraceError

NO_FILE = "/nonexistent/headrace.toml"


def test_defaults_are_loaded_and_typed() -> None:
    cfg = load_config(user_path=NO_FILE, environ={})
    assert cfg.server.port == 4200
    assert isinstance(cfg.server.port, int)
    assert cfg.engine.executor.default_class == "headrace.executors.LocalExecutor"
    assert cfg.flows.checkpointing is False
    assert cfg.agent.labels == []
    assert cfg["server"]["host"] == "127.0.0.1"


def test_attribute_and_mapping_access_agree() -> None:
    cfg = load_config(user_path=NO_FILE, environ={})
    assert cfg.logging.level == cfg["logging"]["level"]
    assert "server" in cfg
    assert set(cfg.to_dict()["server"]) == set(cfg.server)
    with pytest.raises(AttributeError, match=r"no_such_key"):
        _ = cfg.no_such_key


def test_user_file_overrides_defaults_and_keeps_the_rest(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text('[server]\nport = 9999\n[custom]\nname = "mine"\n')
    cfg = load_config(user_path=user, environ={})
    assert cfg.server.port == 9999
    assert cfg.server.host == "127.0.0.1"  # untouched default kept
    assert cfg.custom.name == "mine"


def test_user_path_from_environment_variable(tmp_path: Path) -> None:
    user = tmp_path / "other.toml"
    user.write_text('[logging]\nlevel = "DEBUG"\n')
    cfg = load_config(environ={"HEADRACE_CONFIG_PATH": str(user)})
    assert cfg.logging.level == "DEBUG"


def test_invalid_user_file_names_the_file(tmp_path: Path) -> None:
    user = tmp_path / "broken.toml"
    user.write_text("[server\nport = ")
    with pytest.raises(ConfigError, match=r"broken.toml"):
        load_config(user_path=user, environ={})


@pytest.mark.parametrize(
    ("name", "raw", "path", "expected"),
    [
        ("HEADRACE__SERVER__PORT", "8080", ("server", "port"), 8080),
        ("HEADRACE__SERVER__HEARTBEAT_TIMEOUT", "2.5", ("server", "heartbeat_timeout"), 2.5),
        ("HEADRACE__FLOWS__CHECKPOINTING", "true", ("flows", "checkpointing"), True),
        ("HEADRACE__FLOWS__CHECKPOINTING", "0", ("flows", "checkpointing"), False),
        ("HEADRACE__AGENT__LABELS", "a, b", ("agent", "labels"), ["a", "b"]),
        ("HEADRACE__AGENT__LABELS", '["x", "y"]', ("agent", "labels"), ["x", "y"]),
        ("HEADRACE__LOGGING__LEVEL", "DEBUG", ("logging", "level"), "DEBUG"),
        (
            "HEADRACE__ENGINE__EXECUTOR__DEFAULT_CLASS",
            "m:C",
            ("engine", "executor", "default_class"),
            "m:C",
        ),
    ],
)
def test_environment_overrides_are_converted_to_the_default_type(
    name: str, raw: str, path: tuple[str, ...], expected: object
) -> None:
    cfg: object = load_config(user_path=NO_FILE, environ={name: raw})
    for part in path:
        cfg = cfg[part]  # type: ignore[index]
    assert cfg == expected
    assert type(cfg) is type(expected)


def test_environment_beats_user_file(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[server]\nport = 9999\n")
    cfg = load_config(user_path=user, environ={"HEADRACE__SERVER__PORT": "7000"})
    assert cfg.server.port == 7000


def test_new_keys_parse_as_toml_literals_else_strings() -> None:
    cfg = load_config(
        user_path=NO_FILE,
        environ={
            "HEADRACE__EXTRA__COUNT": "3",
            "HEADRACE__EXTRA__WORD": "hello",
            "HEADRACE__EXTRA__FLAG": "true",
        },
    )
    assert cfg.extra.count == 3
    assert cfg.extra.word == "hello"
    assert cfg.extra.flag is True


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("HEADRACE__SERVER__PORT", "eighty"),
        ("HEADRACE__SERVER__HEARTBEAT_TIMEOUT", "soon"),
        ("HEADRACE__FLOWS__CHECKPOINTING", "perhaps"),
        ("HEADRACE__AGENT__LABELS", '["unclosed"'),
        ("HEADRACE__AGENT__LABELS", '{"not": "a list"}'),
    ],
)
def test_bad_override_raises_config_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name) as info:
        load_config(user_path=NO_FILE, environ={name: raw})
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HeadraceError)


def test_override_cannot_replace_a_section_with_a_scalar() -> None:
    with pytest.raises(ConfigError, match=r"HEADRACE__SERVER"):
        load_config(user_path=NO_FILE, environ={"HEADRACE__SERVER": "1"})


def test_override_cannot_nest_under_a_scalar_value() -> None:
    with pytest.raises(ConfigError, match=r"HEADRACE__SERVER__PORT__X"):
        load_config(user_path=NO_FILE, environ={"HEADRACE__SERVER__PORT__X": "1"})


def test_reload_updates_the_shared_object_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    from headrace import config

    saved = config.to_dict()
    monkeypatch.setenv("HEADRACE__SERVER__PORT", "6001")
    # Every section goes back afterwards as the very object it was (reload replaces them).
    with config.override(**{name: config[name] for name in config}):
        same = reload_config(user_path=NO_FILE)
        assert same is config
        assert config.server.port == 6001
    assert config.to_dict() == saved


def test_config_is_settable_for_tests_and_overrides() -> None:
    cfg = Config({"a": {"b": 1}})
    cfg.a.b = 2
    cfg["c"] = {"d": 3}
    assert cfg.a.b == 2
    assert cfg.c.d == 3
    assert cfg.to_dict() == {"a": {"b": 2}, "c": {"d": 3}}


def test_import_headrace_config_gives_the_shared_object() -> None:
    import headrace
    import headrace.config
    from headrace import config
    from headrace.configuration import config as built

    assert headrace.config is config is built
    assert isinstance(headrace.config, Config)
    assert headrace.config.server.port == built["server"]["port"]


def test_override_sets_dotted_keys_for_the_block_and_puts_them_back() -> None:
    cfg = Config({"server": {"port": 1, "host": "h"}})
    section = cfg.server
    with cfg.override(**{"server.port": 2, "new.deep.key": "x"}) as same:
        assert same is cfg
        assert (cfg.server.port, cfg.server.host, cfg.new.deep.key) == (2, "h", "x")
    assert cfg.to_dict() == {"server": {"port": 1, "host": "h"}}
    assert cfg.server is section


def test_override_nested_form_changes_only_the_keys_it_names() -> None:
    cfg = Config({"server": {"port": 1, "host": "h"}})
    with cfg.override({"server": {"port": 2}}):
        assert cfg.to_dict() == {"server": {"port": 2, "host": "h"}}
    assert cfg.to_dict() == {"server": {"port": 1, "host": "h"}}


def test_override_with_a_mapping_value_replaces_the_section_until_the_block_ends() -> None:
    cfg = Config({"context": {"secrets": {"A": "1", "B": "2"}}})
    before = cfg.context.secrets
    with cfg.override(**{"context.secrets": {"C": "3"}}):
        assert dict(cfg.context.secrets) == {"C": "3"}
    assert cfg.context.secrets is before


def test_override_puts_things_back_when_the_block_raises() -> None:
    cfg = Config({"a": {"b": 1}})
    with pytest.raises(RuntimeError), cfg.override(**{"a.b": 2, "c": 3}):
        raise RuntimeError("boom")
    assert cfg.to_dict() == {"a": {"b": 1}}


def test_override_refuses_to_nest_under_a_value() -> None:
    cfg = Config({"a": {"b": 1}})
    with (
        pytest.raises(ConfigError, match=r"'a\.b\.c' nests under 'b'"),
        cfg.override(**{"a.b.c": 2}),
    ):
        pass
    assert cfg.to_dict() == {"a": {"b": 1}}
