"""A real headrace server for tests: uvicorn on 127.0.0.1 on a free port, in a thread.

``LiveServer(settings).start()`` serves ``create_app(settings)`` and returns once uvicorn is
accepting connections; ``stop()`` shuts it down (graceful, joins the thread). ``restart``
serves a fresh app on the same port, as a restarted server process would.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

__all__ = ["LiveServer", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Any, port: int | None = None) -> None:
        self.settings = settings
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def db(self) -> Any:
        return self.app.state.db

    def start(self) -> LiveServer:
        import uvicorn

        from headrace.server.http.app import create_app

        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"test server on port {self.port} failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError(f"test server on port {self.port} did not start in 30s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(30)
            self._server = self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()
