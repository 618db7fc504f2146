"""`qualpipe serve` as a user starts it: its own process, one or several workers, on 127.0.0.1 only."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qualpipe.web.background import free_port


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_serve_with_two_workers_answers_every_request_and_still_wants_a_login(project):
    port = free_port()
    qualpipe = Path(sys.executable).with_name("qualpipe")
    server = subprocess.Popen([str(qualpipe), "-p", str(project.root), "serve", "--port", str(port), "--workers", "2"],
                              stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{url}/login", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.1)
        answers = [httpx.get(f"{url}/", timeout=5) for _ in range(20)]
        assert {a.status_code for a in answers} == {303}  # anonymous: sent to the login page, by both workers
        assert all(a.headers["location"].startswith("/login") for a in answers)
        assert httpx.get(f"{url}/login", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
