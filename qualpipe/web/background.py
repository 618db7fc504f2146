"""The web app served by a real uvicorn on 127.0.0.1 in a background thread: for tests, screenshots and the bench."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BackgroundServer:
    """`with BackgroundServer(project_root) as server: server.url` – uvicorn on a free port of 127.0.0.1,
    stopped (and its project runner closed) when the block ends."""

    def __init__(self, project_root: str | Path, port: int | None = None, **app_options):
        import uvicorn

        from qualpipe.web.app import LOG_CONFIG, create_app

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(project_root, **app_options), host="127.0.0.1", port=self.port,
                                access_log=False, log_config=LOG_CONFIG, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="qualpipe-web", daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
