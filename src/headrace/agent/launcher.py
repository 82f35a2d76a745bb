"""The warm run launcher: flow-run processes forked from a pre-imported template process.

A cold start of ``python -m headrace execute flow-run --id RUN`` spends most of its time
importing (headrace, its engine, the backend runner, httpx, cloudpickle, click): ~0.3 s of
CPU per run on this kind of machine, which capped a local agent at ~3 no-op runs a second.
With ``agent.warm_start`` (the default) a :class:`~headrace.agent.local.LocalAgent` starts
one *template* process at its start (``python -m headrace.cli.launch_template``) that imports all
of that once and then only waits on a Unix socket for "start run X with environment E".
For each run it forks; the child is the run's process, exactly as if started cold:

- its own process and process group and session (``setsid``, done before the agent hears
  of the child, so the agent's ``killpg`` always reaches it);
- its own environment: ``os.environ`` is replaced by the run's (the agent's environment,
  its ``env``, the run config's ``env``, ``HEADRACE__CONTEXT__FLOW_RUN_ID``, the API URL and
  key), the config is read again from it, and it runs in the run config's ``working_dir``;
- nothing shared with the template: random generators re-seeded, the ``headrace`` logger's
  handler made again on the child's stderr (logging's locks are re-made at fork by the
  standard library), the secrets cache dropped, no HTTP client exists in the template to
  share, the socket to the agent closed;
- its stdout and stderr are one pipe the agent created and reads, as for a cold process;
- its command line reads ``python -m headrace execute flow-run --id RUN`` (the argument
  area of the template, padded at its start, is rewritten), so ``ps`` and whoever looks
  for a run's process by its command line find it;
- the template reaps it and sends the agent its exit code or the signal that killed it
  (``os.waitstatus_to_exitcode``: negative for a signal, as ``subprocess`` says it).

The template is single-threaded (it checks before every fork and refuses otherwise: the
agent then starts that run cold); it never forks the agent, which has threads. A run whose
environment changes how the interpreter itself starts (``PYTHON*`` variables such as
``PYTHONPATH``, ``LD_*``, the locale) is started cold, since a fork cannot apply those.

If the template dies, the agent starts runs cold and starts a new template (with a backoff
if it keeps dying). Runs the dead template had started go on: their ends are seen by their
output closing and their process disappearing, but their exit code went with the template
(the run's message says so). If the agent dies, the template sees its socket close and
exits; runs go on, as cold-started ones do.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = [
    "EXIT_UNKNOWN",
    "LauncherError",
    "WarmLauncher",
    "WarmProcess",
    "warm_compatible",
]

#: The exit code a :class:`WarmProcess` reports when its template died before it: unknown.
EXIT_UNKNOWN = 255

#: The variable that tells the template which file descriptor is its socket to the agent.
SOCKET_FD_ENV = "HEADRACE_LAUNCHER_FD"

#: Room kept in the template's argument area for a run's command line.
_TITLE_ROOM = 256

#: Largest message (a run's environment) between the agent and its template.
_MAX_MESSAGE = 1 << 20

#: Modules the template imports once so no run pays for them.
PRELOAD = (
    "headrace",
    "headrace.cli.main",
    "headrace.client",
    "headrace.client.backend",
    "headrace.client.backend.execute",
    "headrace.client.backend.cancel",
    "headrace.client.backend.runner",
    "headrace.engine.flow_runner",
    "headrace.engine.task_runner",
    "headrace.executors",
    "headrace.environments.execution",
    "headrace.serialization",
    "headrace.storage",
    "headrace.run_configs",
    "httpx",
    "httpcore",
    "h11",
    "cloudpickle",
)

#: Environment variable names (prefixes) that act when an interpreter starts: a run whose
#: values differ from the template's must start cold.
_INTERPRETER_PREFIXES = ("PYTHON", "LD_", "LC_", "MALLOC", "PYTHONUNBUFFERED")
_INTERPRETER_NAMES = frozenset({"LANG", "LANGUAGE", "HEADRACE_LAUNCHER_FD"})


def _starts_interpreter(name: str) -> bool:
    return name in _INTERPRETER_NAMES or name.startswith(_INTERPRETER_PREFIXES)


def warm_compatible(run_env: Mapping[str, str], template_env: Mapping[str, str]) -> list[str]:
    """The variables that act at interpreter start (``PYTHONPATH``, ``LD_PRELOAD``, the
    locale...) whose values differ between a run's environment and the template's: empty
    when a fork of the template is the same as a cold start of the run."""
    names = {n for n in (*run_env, *template_env) if _starts_interpreter(n)}
    names.discard(SOCKET_FD_ENV)
    return sorted(n for n in names if run_env.get(n) != template_env.get(n))


class LauncherError(RuntimeError):
    """The warm launcher could not start a run (the agent starts it cold instead)."""


# --- the agent's side ------------------------------------------------------------------------
class WarmProcess:
    """A run's process forked by the template, seen from the agent like a ``Popen``:
    ``pid``, ``stdout`` (text), ``poll()``, ``wait(timeout)``, ``send_signal(sig)``."""

    def __init__(self, pid: int, stdout: IO[str], launcher: WarmLauncher) -> None:
        self.pid = pid
        self.stdout: IO[str] | None = stdout
        self.returncode: int | None = None
        #: Set when the template that started it died first (its exit code is unknown).
        self.orphaned = False
        self._exited = threading.Event()
        self._launcher = launcher

    @property
    def exit_description(self) -> str | None:
        """How it ended when that is not its exit code (its template died first)."""
        if self.returncode == EXIT_UNKNOWN and self.orphaned:
            return (
                "ended, but its exit code is unknown: the warm launcher process that started "
                "it died before it"
            )
        return None

    def _set_exit(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
        self._exited.set()

    def _gone(self) -> bool:
        """An orphan's process no longer runs (or is a zombie waiting for its reaper)."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                stat = fh.read()
            return stat[stat.rindex(b")") + 2 :][:1] in (b"Z", b"X")
        except (OSError, ValueError):
            pass
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def poll(self) -> int | None:
        """Its exit code once it ended (negative: the signal that killed it), else None."""
        if self.returncode is None and self.orphaned and self._gone():
            self._set_exit(EXIT_UNKNOWN)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for its end; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            code = self.poll()
            if code is not None:
                return code
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(["flow-run", str(self.pid)], timeout or 0.0)
            self._exited.wait(0.2 if left is None else min(left, 0.2))

    def send_signal(self, sig: int) -> None:
        """Signal the process (not once it ended: its pid may be another's by then)."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@dataclass
class _Pending:
    event: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)


class WarmLauncher:
    """The agent's end of its template process: starts it, asks it to fork runs, hears how
    they end, and starts a new template when one dies (not more often than every
    ``backoff`` seconds, doubling while templates keep dying young)."""

    def __init__(
        self,
        logger: Any,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 10.0,
        backoff: float = 1.0,
    ) -> None:
        self.logger = logger
        #: The template's environment (the agent's, with its ``env``; unbuffered output).
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.env.pop(SOCKET_FD_ENV, None)
        self.start_timeout = start_timeout
        self._backoff = backoff
        self._next_try = 0.0
        self._failures = 0
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._pending: dict[str, _Pending] = {}
        self._children: dict[int, WarmProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._counter = 0
        self._closed = False
        self._spawned_at = 0.0
        #: How many templates were started (the first plus restarts).
        self.templates_started = 0

    # -- the template's life --------------------------------------------------------------
    @property
    def template_pid(self) -> int | None:
        """The pid of the template process now serving (None when there is none)."""
        process = self._process
        return process.pid if process is not None and self._ready.is_set() else None

    def ready(self) -> bool:
        """Whether a template is up and may be asked to start a run."""
        return self._ready.is_set() and not self._closed

    def ensure_started(self) -> None:
        """Start a template unless one is up or starting (or the backoff says wait)."""
        with self._lock:
            if self._closed or self._process is not None:
                return
            if time.monotonic() < self._next_try:
                return
            self._spawn()

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with contextlib.suppress(OSError):
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _MAX_MESSAGE)
        env = {**self.env, SOCKET_FD_ENV: str(theirs.fileno())}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "headrace.cli.launch_template", "-" * _TITLE_ROOM],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            self._give_up_for_now(f"could not start the warm launcher: {exc}")
            return
        finally:
            theirs.close()
        self._process, self._sock = process, ours
        self._ready.clear()
        self._spawned_at = time.monotonic()
        self.templates_started += 1
        self._reader = threading.Thread(
            target=self._read, args=(process, ours), name="headrace-launcher", daemon=True
        )
        self._reader.start()

    def _give_up_for_now(self, why: str) -> None:
        self._failures += 1
        wait = min(60.0, self._backoff * 2 ** (self._failures - 1))
        self._next_try = time.monotonic() + wait
        self.logger.warning("%s; runs start cold, another try in %gs", why, wait)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until a template is up (tests, benchmarks); False after ``timeout``."""
        self.ensure_started()
        return self._ready.wait(self.start_timeout if timeout is None else timeout)

    def _read(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        """The reader of one template's socket: readiness, started runs, ended runs."""
        try:
            while True:
                try:
                    data = sock.recv(1 << 16)
                except OSError:
                    break
                if not data:
                    break
                self._dispatch(json.loads(data))
        finally:
            self._template_died(process, sock)

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "ready":
            self._ready.set()
        elif op in ("started", "refused"):
            pending = self._pending.get(str(message.get("token")))
            if pending is not None:
                pending.answer = message
                pending.event.set()
        elif op == "exit":
            pid, code = int(message["pid"]), int(message["code"])
            with self._lock:
                child = self._children.pop(pid, None)
                if child is None:  # ended before its start was recorded
                    self._early_exits[pid] = code
            if child is not None:
                child._set_exit(code)

    def _template_died(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        with self._lock:
            if self._process is not process:
                sock.close()
                return
            self._ready.clear()
            self._process, self._sock = None, None
            sock.close()
            orphans = list(self._children.values())
            self._children.clear()
            for pending in self._pending.values():
                pending.answer = {"op": "refused", "error": "the warm launcher died"}
                pending.event.set()
            closed = self._closed
        for child in orphans:
            child.orphaned = True
        if closed:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        code = process.poll()
        with self._lock:
            if time.monotonic() - self._spawned_at > 60:
                self._failures = 0
            how = "did not exit" if code is None else _describe(code)
            self._give_up_for_now(
                f"the warm launcher process {process.pid} {how}"
                + (f"; {len(orphans)} run(s) it started go on" if orphans else "")
            )

    def _kill_template(self, sock: socket.socket) -> None:
        with self._lock:
            process = self._process if self._sock is sock else None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    def close(self) -> None:
        """Stop the template (its runs go on; the agent stops those itself)."""
        with self._lock:
            self._closed = True
            process, sock = self._process, self._sock
            self._process, self._sock = None, None
            self._ready.clear()
            orphans = list(self._children.values())
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if process is not None:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for child in orphans:
            child.orphaned = True

    # -- runs -----------------------------------------------------------------------------
    def launch(
        self, argv: list[str], env: Mapping[str, str], cwd: str | None, title: list[str]
    ) -> WarmProcess:
        """Fork a run's process from the template: ``argv`` are the arguments of the
        ``headrace`` command it runs, ``env`` its whole environment, ``cwd`` its working
        directory, ``title`` its command line as ``ps`` shows it. Raises
        :class:`LauncherError` when the template cannot (the caller starts it cold)."""
        if not self.ready():
            self.ensure_started()
            raise LauncherError("the warm launcher is not running")
        read_fd, write_fd = os.pipe()
        with self._lock:
            self._counter += 1
            token = str(self._counter)
            pending = self._pending[token] = _Pending()
            sock = self._sock
        try:
            if sock is None:
                raise LauncherError("the warm launcher is not running")
            body = json.dumps(
                {
                    "op": "start",
                    "token": token,
                    "argv": list(argv),
                    "env": dict(env),
                    "cwd": cwd,
                    "title": list(title),
                }
            ).encode()
            if len(body) > _MAX_MESSAGE:
                raise LauncherError("the run's environment is too large for the warm launcher")
            try:
                with self._send_lock:
                    socket.send_fds(sock, [body], [write_fd])
            except OSError as exc:
                raise LauncherError(f"could not reach the warm launcher: {exc}") from exc
            os.close(write_fd)
            write_fd = -1
            if not pending.event.wait(self.start_timeout):
                # A template that does not answer is broken: it is killed (a new one is
                # started later) and this run starts cold. (It answers right after its
                # fork, so it cannot have started this run and then hung.)
                self._kill_template(sock)
                raise LauncherError(
                    f"the warm launcher did not answer within {self.start_timeout:g}s"
                )
            answer = pending.answer
        except BaseException:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
            raise
        finally:
            self._pending.pop(token, None)
        if answer.get("op") != "started" or int(answer.get("pid") or 0) <= 0:
            os.close(read_fd)
            raise LauncherError(str(answer.get("error") or "the warm launcher refused"))
        stdout = open(read_fd, encoding=None, errors="replace")  # noqa: SIM115 - the handle owns it
        pid = int(answer.get("pid") or 0)
        process = WarmProcess(pid, stdout, self)
        with self._lock:
            early = self._early_exits.pop(pid, None)
            if early is not None:
                process._set_exit(early)
            elif pid and self._process is not None:
                self._children[pid] = process
            else:  # its template is gone already (or never said which pid)
                process.orphaned = True
        return process


def _describe(code: int) -> str:
    from headrace.agent.handle import describe_exit

    return describe_exit(code)


# --- the template's side ---------------------------------------------------------------------
@dataclass
class _Child:
    """What a forked child runs."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    title: list[str]
    output_fd: int


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def serve(sock: socket.socket) -> _Child | None:
    """The template's loop: fork a child per start request and report each child's end.
    Returns in a forked child (what it must run), or None when the agent went away."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    _send(sock, {"op": "ready", "pid": os.getpid()})
    while True:
        watched: list[int] = [sock.fileno(), wake_r]
        readable, _, _ = select.select(watched, [], [])
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                while os.read(wake_r, 512):
                    pass
        _reap(sock)
        if sock.fileno() not in readable:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, _MAX_MESSAGE, 4)
        except OSError:
            return None
        if not data:
            return None
        request = json.loads(data)
        if request.get("op") != "start" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        output_fd = fds[0]
        if threading.active_count() != 1:
            os.close(output_fd)
            _send(
                sock,
                {
                    "op": "refused",
                    "token": request["token"],
                    "error": f"the template has {threading.active_count()} threads; forking "
                    "it would not be safe",
                },
            )
            continue
        sync_r, sync_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the run's process
            os.setsid()
            os.close(sync_r)
            os.close(sync_w)  # the template learns the session exists
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            sock.close()
            return _Child(
                argv=[str(a) for a in request["argv"]],
                env={str(k): str(v) for k, v in request["env"].items()},
                cwd=request.get("cwd"),
                title=[str(a) for a in request.get("title") or ()],
                output_fd=output_fd,
            )
        os.close(output_fd)
        os.close(sync_w)
        os.read(sync_r, 1)  # EOF once the child called setsid (or died)
        os.close(sync_r)
        _send(sock, {"op": "started", "token": request["token"], "pid": pid})


def set_title(words: list[str]) -> bool:
    """Make ``/proc/self/cmdline`` (what ``ps`` shows) read ``words``, written over this
    process's argument area (Linux; as much as fits). False when it could not."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        start, end = int(fields[45]), int(fields[46])
    except (OSError, ValueError, IndexError):
        return False
    room = end - start
    if room <= 1:
        return False
    data = b"\0".join(os.fsencode(w) for w in words)[: room - 1]
    ctypes.memmove(start, data.ljust(room, b"\0"), room)
    return True


def _become_run(child: _Child, path0: str | None) -> None:
    """In the forked child: take the run's output, environment, directory and title, and
    drop what the template's state could leak into it."""
    import random

    if child.output_fd not in (1, 2):
        os.dup2(child.output_fd, 1)
        os.dup2(child.output_fd, 2)
        os.close(child.output_fd)
    os.environ.clear()
    os.environ.update(child.env)
    with contextlib.suppress(AttributeError):
        time.tzset()
    if child.cwd:
        os.chdir(child.cwd)
    if path0 is not None and sys.path and sys.path[0] == path0:
        sys.path[0] = os.getcwd()  # as ``python -m`` started here would have it
    if child.title:
        set_title(child.title)
    random.seed()

    from headrace import _logging as headrace_logging
    from headrace.configuration import reload_config
    from headrace.utilities.secrets import forget_secrets

    reload_config()
    forget_secrets()
    import logging

    root = logging.getLogger("headrace")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    headrace_logging._configured = False
    headrace_logging.configure_logging()
    package = os.path.dirname(sys.modules["headrace"].__file__ or "")
    sys.argv = [os.path.join(package, "__main__.py"), *child.argv]


def template_main(entry: Callable[[], object]) -> int:
    """The template program (``python -m headrace.cli.launch_template``): import everything
    once, then serve; a forked run's process calls ``entry`` (the CLI's ``main``, given by
    the program so that the agent layer never imports the CLI) with the run's arguments."""
    import importlib

    fd = int(os.environ.pop(SOCKET_FD_ENV))
    sock = socket.socket(fileno=fd)
    path0 = sys.path[0] if sys.path else None
    for name in PRELOAD:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # the template's objects stay out of the children's collections (no copies)
    child = serve(sock)
    if child is None:
        return 0
    # The run keeps them frozen: they live as long as its process anyway, and a collection
    # that walked them would write to (and so copy) most of the heap's pages it shares with
    # the template, for tens of milliseconds. What the run allocates is collected as usual.
    _become_run(child, path0)
    try:
        entry()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    _exit(code)
    return code


def _exit_code(value: object) -> int:
    """The exit code ``sys.exit(value)`` gives (a message is printed and means 1)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _exit(code: int) -> None:
    """End a run's process as the interpreter would (wait for its non-daemon threads, run
    its ``atexit`` functions, flush its output) but without tearing down the modules it
    inherited from the template one by one, which cost more CPU than the run itself."""
    import atexit

    try:
        threading._shutdown()  # type: ignore[attr-defined]
    except Exception:  # as the interpreter does: report it and go on
        import traceback

        traceback.print_exc()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
