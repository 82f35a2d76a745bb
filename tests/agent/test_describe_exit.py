"""How an agent words the end of a run's process in the run's history: the exit code, or
the signal that killed it, from a process (negative codes) or a container (128 + n)."""

from __future__ import annotations

import pytest

from headrace.agent.handle import describe_exit


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (1, "exited with code 1"),
        (0, "exited with code 0"),
        (-15, "was killed by SIGTERM (exit code -15)"),
        (
            -9,
            "was killed by SIGKILL (exit code -9); SIGKILL is also what the out-of-memory "
            "killer sends",
        ),
        (
            137,
            "was killed by SIGKILL (exit code 137); SIGKILL is also what the out-of-memory "
            "killer sends",
        ),
        (143, "was killed by SIGTERM (exit code 143)"),
        (-200, "was killed by signal 200 (exit code -200)"),
        (255, "exited with code 255"),
    ],
)
def test_describe_exit(code: int, words: str) -> None:
    assert describe_exit(code) == words
