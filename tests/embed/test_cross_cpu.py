"""Vectors on AVX2 and on AVX-512 CPUs, within the tolerance the README states: the engine is run here a
second time on an emulated AVX2 CPU without AVX-512 (QEMU's user-mode emulator, Debian's qemu-user;
.ci/run installs it) and its vectors are compared with this machine's. The project's machines are of
both kinds, and the shipped models were trained and calibrated on one of them."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import CORPUS
from qualpipe.engines import Engines

EMULATED_CPU = "max"  # QEMU's software CPU: AVX2 and FMA, no AVX-512, no VNNI

EMBED = """
import json, sys
import numpy as np
from qualpipe.engines import Engines
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
np.save(sys.argv[2], Engines().raw_embedder(sys.argv[3]).encode(texts, kind="passage"))
"""

PROBE = """
from qualpipe.learning.head import cpu_kind
print(cpu_kind())
"""


def _emulator() -> str:
    if platform.machine() != "x86_64":
        pytest.skip("compares x86-64 instruction sets")
    emulator = shutil.which("qemu-x86_64")
    if emulator is None:
        pytest.skip("needs qemu-x86_64 from Debian's qemu-user (.ci/run installs it)")
    return emulator


def _emulated(emulator: str, script: str, *args: str) -> str:
    result = subprocess.run([emulator, "-cpu", EMULATED_CPU, sys.executable, "-c", script, *args],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rows = []
    for path in sorted((CORPUS / "logbooks").glob("*.jsonl")):
        rows += [json.loads(row)["text"] for row in path.read_text(encoding="utf-8").splitlines() if row.strip()]
    return rows[:5] + ["Ja. Tak.", "han slog mig i skak 3 gange i traek lol"]


@pytest.mark.parametrize("model", ["e5-small-fast", "e5-small-fast-fp32"])
def test_vectors_on_an_avx2_cpu_are_within_the_stated_tolerance_of_this_machines(model, texts, tmp_path):
    emulator = _emulator()
    assert _emulated(emulator, PROBE).strip() == "avx2"  # AVX2, and really no AVX-512
    here = Engines().raw_embedder(model).encode(texts, kind="passage")  # also builds the graph, natively
    source = tmp_path / "texts.json"
    source.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    _emulated(emulator, EMBED, str(source), str(tmp_path / "there.npy"), model)
    there = np.load(tmp_path / "there.npy")
    assert there.shape == here.shape
    if model == "e5-small-fast-fp32":  # the float variant: the same vectors on either kind of CPU
        assert np.abs(there - here).max() <= 1e-5
    else:  # the integer default: each text's vector within cosine 0.998 of the other CPU's
        assert (there * here).sum(axis=1).min() >= 0.998
