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


class ServeProcess:
    """`with ServeProcess(project_root, workers=2) as served: served.url` – `qualpipe serve` in its own process
    on a free port of 127.0.0.1, as a user starts it; stopped when the block ends, its standard error then in
    `served.log`."""

    def __init__(self, project_root: str | Path, workers: int = 1):
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [str(Path(sys.executable).with_name("qualpipe")), "-p", str(project_root), "serve",
                        "--port", str(self.port), "--workers", str(workers)]
        self.log = ""

    def __enter__(self) -> "ServeProcess":
        import subprocess

        import httpx

        self.process = subprocess.Popen(self.command, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/login", timeout=1)
                return self
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"qualpipe serve did not start on {self.url}: {self.log.strip()[-500:]}")
                time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.log = self.process.communicate(timeout=30)[1]
