"""The transport's own JSON encoding of report bodies (``fast_json_body``)."""

from __future__ import annotations

import json

import pytest

from headrace.client.http import fast_json_body


@pytest.mark.parametrize(
    "value",
    [
        {"rows": [[0, 3, "Success", 1764806400.123456, "Task run succeeded.", None, None]]},
        {"text": 'ünïcode ✓ \u2028 "quoted" \\ back', "empty": [], "nested": {"a": [1.5, -2]}},
        {"big": 2**70},  # beyond 64 bits: orjson refuses it, the standard encoder writes it
        {"small": -(2**63)},
    ],
)
def test_the_body_decodes_to_what_the_standard_encoder_writes(value: object) -> None:
    standard = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert json.loads(fast_json_body(value)) == json.loads(standard)


def test_a_key_orjson_cannot_write_takes_the_standard_encoder() -> None:
    assert json.loads(fast_json_body({1: "a"})) == {"1": "a"}


def test_what_neither_encoder_can_write_is_an_error_naming_its_type() -> None:
    with pytest.raises(TypeError, match="object"):
        fast_json_body({"value": object()})
