"""The one masking path: what it masks, what it leaves alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from headrace.client.backend.logs import BackendLogHandler, mask_secrets, secret_values
from headrace.client.backend.states import state_parts
from headrace.engine.state import Failed
from headrace.utilities.secrets import (
    MASK,
    environment_secrets,
    forget_secrets,
    redact,
    remember_secrets,
)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def test_remembered_values_are_masked_everywhere_longest_first() -> None:
    remember_secrets(["abcd", "abcdefgh"])
    assert redact("x abcdefgh y abcd z") == f"x {MASK} y {MASK} z"
    assert mask_secrets("abcdefgh") == MASK


def test_short_values_are_never_masked() -> None:
    remember_secrets(["abc", "1"])
    assert redact("abc 1") == "abc 1"
    assert redact("abc", ["ab"]) == "abc"


def test_secret_named_environment_variables_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADRACE__CLOUD__DEPLOY_KEY", "deploy-key-value")
    monkeypatch.setenv("DB_PASSWORD", "hunter22")
    monkeypatch.setenv("HOME_DIRECTORY", "/not/a/secret")
    found = environment_secrets()
    assert "deploy-key-value" in found and "hunter22" in found
    assert "/not/a/secret" not in found
    assert redact("k=deploy-key-value p=hunter22") == f"k={MASK} p={MASK}"


def test_a_storage_secret_is_masked_in_logs_and_state_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIN_NAMED", "value-of-a-storage-secret")
    assert redact("value-of-a-storage-secret") == "value-of-a-storage-secret"
    assert "value-of-a-storage-secret" in secret_values(["PLAIN_NAMED"])
    handler = BackendLogHandler(None)
    assert handler.redact("got value-of-a-storage-secret") == f"got {MASK}"
    _, message, _ = state_parts(Failed("error: value-of-a-storage-secret"))
    assert message == f"error: {MASK}"


def test_a_text_masked_before_is_masked_again_once_a_new_secret_is_known() -> None:
    # redact answers repeated short texts from a memo: it must not outlive the secrets
    text = "connecting with s3cr3t-token-value"
    assert redact(text) == text
    assert redact(text) == text  # now answered from the memo
    remember_secrets(["s3cr3t-token-value"])
    assert redact(text) == f"connecting with {MASK}"


def test_a_new_secret_in_the_environment_drops_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "password is hunter2hunter2"
    assert redact(text) == text
    monkeypatch.setenv("APP_PASSWORD", "hunter2hunter2")
    assert redact(text) == f"password is {MASK}"
