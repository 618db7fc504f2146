"""No text leaves the machine: a command run with networking denied makes no network call and leaves no
telemetry queue behind (ONNX Runtime's 1DS telemetry is switched off by qualpipe itself)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, REPO

QUALPIPE = Path(sys.executable).with_name("qualpipe")


def _tools_or_skip() -> None:
    missing = [t for t in ("strace", "unshare") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (.ci/run installs them)")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("this sandbox does not allow a network namespace (unshare -n)")


def test_the_weekly_run_with_networking_denied_makes_no_network_call_and_queues_no_telemetry(tmp_path):
    _tools_or_skip()
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "p"
    project.mkdir()
    shutil.copyfile(CORPUS / "qualpipe.toml", project / "qualpipe.toml")
    cache = Path(os.environ.get("QUALPIPE_CACHE_DIR") or Path.home() / ".cache" / "qualpipe")
    env = {**os.environ, "HOME": str(home), "QUALPIPE_CACHE_DIR": str(cache), "ORT_DISABLE_TELEMETRY": "0"}
    trace = tmp_path / "trace.log"
    subprocess.run([str(QUALPIPE), "--project", str(project), "init"], env=env, check=True, capture_output=True)
    run = subprocess.run(
        ["unshare", "-n", "strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
         str(QUALPIPE), "--project", str(project), "alerts", "--ingest", str(CORPUS / "logbooks"), "--week", "2024-W06",
         "-f", "json", "-o", str(tmp_path / "digest.json")], env=env, capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads((tmp_path / "digest.json").read_text(encoding="utf-8"))["cases"], "the run did real work"
    calls = trace.read_text(encoding="utf-8")
    remote = [line for line in calls.splitlines() if re.search(r"AF_INET6?\b", line)
              and not re.search(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"', line)]
    assert remote == [], remote[:5]
    assert not (home / ".cache" / "Microsoft").exists(), "ONNX Runtime queued telemetry events"
