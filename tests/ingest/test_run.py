"""Ingest loads spaCy and lingua only for files with something new to store."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import CORPUS, new_corpus_project

PROBE = """
import json, sys
from qualpipe import preload
from qualpipe.project import Project
with Project(sys.argv[1]) as project:
    report = project.ingest([sys.argv[2]], "logbook")
print(json.dumps({"added": report.added, "skipped": report.skipped_files, "spacy": "spacy" in sys.modules,
                  "lingua": any(key[0] == "lingua" for key in preload._built)}))
"""


def _ingest_in_a_fresh_process(root, path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reingesting_unchanged_files_loads_no_language_models(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.close()
    logbooks = CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"
    first = _ingest_in_a_fresh_process(project.root, logbooks)
    assert first["added"] > 0 and first["spacy"] and first["lingua"]
    again = _ingest_in_a_fresh_process(project.root, logbooks)
    assert again == {"added": 0, "skipped": 1, "spacy": False, "lingua": False}
