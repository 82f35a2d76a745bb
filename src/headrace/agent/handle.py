"""``RunHandle``: what an agent started for one flow run (a process, a container, a Job).

Each agent kind returns its own from ``deploy_flow``; the agent's loop only polls it, asks
it to stop (gracefully, then by force) and reads its last output lines for the message of
a run whose process died.
"""

from __future__ import annotations

import collections
import signal
from collections.abc import Callable

from headrace.utilities.secrets import redact

__all__ = ["RunHandle", "describe_exit"]


def describe_exit(code: int) -> str:
    """How a run's process ended, in words: its exit code, or the signal that killed it
    (negative codes from a process, 128 + n from a container's shell), saying that SIGKILL
    is also what the kernel's out-of-memory killer sends."""
    number = -code if code < 0 else code - 128 if 128 < code < 160 else 0
    if not number:
        return f"exited with code {code}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    text = f"was killed by {name} (exit code {code})"
    if number == signal.SIGKILL:
        text += "; SIGKILL is also what the out-of-memory killer sends"
    return text


class RunHandle:
    """What an agent started for one flow run: ask whether it ended, stop it, read its output."""

    def __init__(self, flow_run_id: str, output_lines: int = 200) -> None:
        self.flow_run_id = flow_run_id
        self.output: collections.deque[str] = collections.deque(maxlen=output_lines)
        #: The run's secret values (its environment's, its storage's): masked in every line
        #: of output the agent logs or keeps (set by the agent before output flows).
        self.secrets: list[str] = []
        #: Called (from any thread) when it may have ended, so the agent looks at once
        #: instead of at its next poll (set by the agent; None: nobody to tell).
        self.on_end: Callable[[], None] | None = None

    def ended_maybe(self) -> None:
        """Tell the agent (:attr:`on_end`) that it may have ended."""
        callback = self.on_end
        if callback is not None:
            callback()

    def describe_exit(self, code: int) -> str:
        """How it ended, in words (:func:`describe_exit` of its exit code)."""
        return describe_exit(code)

    def masked(self, line: str) -> str:
        """``line`` with the run's secrets (and the agent process's own) masked."""
        return redact(line, self.secrets)

    def poll(self) -> int | None:
        """The exit code once ended, else None."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop it now."""
        raise NotImplementedError

    def terminate(self) -> None:
        """Ask it to stop and return at once (SIGTERM): the run ends itself gracefully."""
        self.stop()

    def kill(self) -> None:
        """Force it to end now (the grace period ran out)."""
        self.stop()

    def cleanup(self) -> None:
        """Release what is left once it ended (containers, pipes)."""

    def last_output(self, lines: int = 40) -> str:
        """The last ``lines`` lines it printed, secrets masked."""
        return self.masked("\n".join(list(self.output)[-lines:]))
