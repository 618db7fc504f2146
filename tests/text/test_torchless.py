"""thinc starts without torch for a blank-pipeline project, and with it when a trained pipeline is configured.

Each case runs in a fresh interpreter: whether thinc has torch is decided once per process, and
this test session has imported torch long ago."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qualpipe.project import Project

from conftest import CORPUS

PROBE = """
import json, sys
from qualpipe.project import Project
with Project(sys.argv[1]) as project:
    if len(sys.argv) > 2:
        project.ingest([sys.argv[2]], "logbook")
        report = project.flag_new_entries()
    else:
        import spacy  # noqa: F401
        report = None
import thinc.compat
state = {"torch_loaded": "torch" in sys.modules, "thinc_torch": thinc.compat.has_torch,
         "alerts": report.alerts if report else None}
import torch  # still importable: sentence-transformers, BERTopic and the ONNX export need it
state["torch_importable"] = bool(torch.__version__)
print(json.dumps(state))
"""


def _probe(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_flagging_with_the_blank_pipeline_never_loads_torch(tmp_path):
    Project.init(tmp_path / "p").close()
    state = _probe(str(tmp_path / "p"), str(CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"))
    assert state["alerts"] > 0  # spaCy, the matcher and the embedding detector all ran
    assert state == {"torch_loaded": False, "thinc_torch": False, "alerts": state["alerts"], "torch_importable": True}


def test_a_configured_trained_pipeline_keeps_thincs_torch_layers(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "qualpipe.toml").write_text('[nlp]\npipeline = "da_core_news_trf"\n', encoding="utf-8")
    state = _probe(str(root))
    assert state["thinc_torch"] is True


BATCH_PROBE = """
import json, sys
from qualpipe.cli import app
try:
    app([sys.argv[3], "--input", sys.argv[1], "--output", sys.argv[2]])
except SystemExit as done:
    assert not done.code, done.code
import thinc.compat
print(json.dumps({"torch_loaded": "torch" in sys.modules, "thinc_torch": thinc.compat.has_torch,
                  "sklearn_loaded": "sklearn" in sys.modules}))
"""


@pytest.mark.parametrize("command", ["code", "flag"])
def test_batch_mode_never_loads_torch(tmp_path, command):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "Hun valgte selv dagens aktivitet. Vi spurgte hende."}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", BATCH_PROBE, str(source), str(tmp_path / "out.jsonl"), command],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    # neither torch nor scikit-learn (its import costs about 1.2 s; qualpipe.learning.ngrams hashes as it does)
    assert state == {"torch_loaded": False, "thinc_torch": False, "sklearn_loaded": False}
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["id"] == 1


WEEKLY_PROBE = """
import json, sys
from qualpipe.cli import app
try:
    app(["-p", sys.argv[1], "alerts", "--ingest", sys.argv[2], "--week", "2024-W10", "-f", "json", "-o", sys.argv[3]])
except SystemExit as done:
    assert not done.code, done.code
import thinc.compat
print(json.dumps({"torch_loaded": "torch" in sys.modules, "thinc_torch": thinc.compat.has_torch,
                  "sklearn_loaded": "sklearn" in sys.modules}))
"""


def test_the_weekly_run_in_one_command_loads_neither_torch_nor_scikit_learn(tmp_path):
    Project.init(tmp_path / "p").close()
    digest = tmp_path / "digest.json"
    done = subprocess.run([sys.executable, "-c", WEEKLY_PROBE, str(tmp_path / "p"),
                           str(CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"), str(digest)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state == {"torch_loaded": False, "thinc_torch": False, "sklearn_loaded": False}
    assert json.loads(digest.read_text(encoding="utf-8"))["week"] == "2024-W10"  # the digest was built
