"""The code passes ruff (pycodestyle and pyflakes at 120 columns, as pyproject.toml configures it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_in_the_package_tests_benches_and_corpus_tools():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "qualpipe", "tests", "bench", "corpora", "docs"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
