"""``Secret(name).get()`` and the secret tasks, resolved locally: the run context, the
config (``HEADRACE__CONTEXT__SECRETS__NAME``, case kept), environment variables."""

from __future__ import annotations

import pytest

from headrace import Flow, context, task
from headrace.client import Secret, SecretNotFoundError
from headrace.client.secrets import resolved_secret_values
from headrace.configuration import config, load_config
from headrace.engine.results import SecretResult
from headrace.tasks import EnvVarSecret, PrefectSecret, SecretTask


def test_context_secrets_come_first_and_json_values_are_parsed() -> None:
    with context(secrets={"DB": '{"user": "ann", "port": 5432}', "PLAIN": "s3cr3t-plain"}):
        assert Secret("DB").get() == {"user": "ann", "port": 5432}
        assert Secret("PLAIN").get() == "s3cr3t-plain"
        assert Secret("PLAIN").exists()
    assert "s3cr3t-plain" in resolved_secret_values()  # remembered for masking


def test_environment_variables_fill_config_secrets_keeping_the_names_case() -> None:
    loaded = load_config(environ={"HEADRACE__CONTEXT__SECRETS__MyToken": "abc-123"})
    assert dict(loaded.context.secrets) == {"MyToken": "abc-123"}
    # Other sections are still lower-cased.
    assert load_config(environ={"HEADRACE__SERVER__PORT": "5"}).server.port == 5


def test_config_secrets_are_read() -> None:
    with config.override(**{"context": {"secrets": {"FROM_CONFIG": "cfg-value"}}}):
        assert Secret("FROM_CONFIG").get() == "cfg-value"


def test_a_missing_secret_names_itself_and_where_it_looked() -> None:
    with config.override(**{"cloud.server_secrets": "never"}):
        with pytest.raises(SecretNotFoundError) as info:
            Secret("NOPE").get()
        assert info.value.name == "NOPE"
        assert "config context.secrets" in str(info.value)
        assert isinstance(info.value, ValueError)
        assert not Secret("NOPE").exists()
        with pytest.raises(TypeError, match="non-empty name"):
            Secret("")


def test_secret_tasks_in_a_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HR_TEST_PORT", "8125")
    seen: dict[str, object] = {}

    @task
    def use(token: str, port: int, missing: object) -> None:
        seen.update(token=token, port=port, missing=missing)

    with Flow("secrets") as flow:
        use(
            PrefectSecret("TOKEN"), EnvVarSecret("HR_TEST_PORT", cast=int), EnvVarSecret("HR_UNSET")
        )
    state = flow.run(context={"secrets": {"TOKEN": "t0k3n"}})
    assert state.is_successful(), state
    assert seen == {"token": "t0k3n", "port": 8125, "missing": None}
    assert SecretTask is PrefectSecret
    assert isinstance(PrefectSecret("X").result, SecretResult)


def test_env_var_secret_can_insist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HR_UNSET", raising=False)
    with pytest.raises(ValueError, match="'HR_UNSET' is not set"):
        EnvVarSecret("HR_UNSET", raise_if_missing=True).run()
    with pytest.raises(ValueError, match="only their name is ever kept"):
        PrefectSecret("X", result=SecretResult(EnvVarSecret("Y")))
