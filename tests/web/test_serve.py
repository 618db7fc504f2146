"""`qualpipe serve` as a user starts it: its own process, one or several workers, on 127.0.0.1 only."""

from __future__ import annotations

import httpx
import pytest

from qualpipe.web.background import ServeProcess


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_serve_with_two_workers_answers_every_request_and_still_wants_a_login(project):
    with ServeProcess(project.root, workers=2) as served:
        answers = [httpx.get(f"{served.url}/", timeout=5) for _ in range(20)]
        assert {a.status_code for a in answers} == {303}  # anonymous: sent to the login page, by both workers
        assert all(a.headers["location"].startswith("/login") for a in answers)
        assert httpx.get(f"{served.url}/login", timeout=5).status_code == 200
