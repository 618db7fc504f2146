"""The embed, code and flag stages on Dask give what the single-process path gives, and retries write nothing twice."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from qualpipe.cli import app
from qualpipe.distributed import LocalExecutor, flag_partition
from qualpipe.embed.cache import store_vectors
from qualpipe.flagging.alerts import store_flags, with_case_history
from qualpipe.project import Project



def _copy(project: Project, root) -> Project:
    shutil.copytree(project.root, root)
    copy = Project(root)
    with copy.store.transaction() as conn:
        conn.execute("DELETE FROM codings WHERE source = 'machine'")
    return copy


# The promise (README, "Scaling out with Dask"): vectors equal within 1e-5 per component and scores within
# 1e-4 whatever the partitioning, thread count or CPU (AVX2, AVX-512); a decision may differ only where
# its score lies within that tolerance of the threshold. Bitwise equality is not promised: ONNX Runtime's
# float kernels sum in an order that depends on the CPU's vector width and the number of threads.
SCORE_TOLERANCE = 1e-4


def _results(project: Project) -> tuple:
    q = project.store.query
    codings = {(r[0], r[1], r[3]): r[2] for r in q("SELECT segment_id, code, score, method FROM codings "
                                                  "WHERE source = 'machine' ORDER BY segment_id, code")}
    alerts = [tuple(r) for r in q("SELECT document_id, category, base_severity, severity, start, end, band "
                                   "FROM alerts ORDER BY document_id, category")]
    return codings, alerts


def _same_within_tolerance(a: tuple, b: tuple, thresholds: dict[str, float]) -> bool:
    codings_a, codings_b = a[0], b[0]
    for key in set(codings_a) | set(codings_b):
        if key in codings_a and key in codings_b:
            if abs(codings_a[key] - codings_b[key]) > SCORE_TOLERANCE:
                return False
        elif abs(codings_a.get(key, codings_b.get(key)) - thresholds[key[1]]) > SCORE_TOLERANCE:
            return False  # a code present on one side only, with a score not at the threshold
    return a[1] == b[1]


def _vectors(project: Project) -> dict:
    return {
        r[0]: np.frombuffer(r[1], dtype=np.float32)
        for r in project.store.query("SELECT text_hash, vector FROM embeddings")
    }


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_dask_run_matches_the_single_process_run_and_a_rerun_changes_nothing(coded_corpus, tmp_path):
    local = _copy(coded_corpus, tmp_path / "local")
    on_dask = _copy(coded_corpus, tmp_path / "dask")
    with on_dask.store.transaction() as conn:
        conn.execute("DELETE FROM embeddings")
    local_report = local.run_stages(LocalExecutor())
    on_dask.close()

    runner = CliRunner()
    base = ["--project", str(on_dask.root), "run", "--engine", "dask", "--workers", "2", "--partition-size", "150"]
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.output
    assert "dask:" in result.output and f"{local_report.coded_segments} segment(s) coded" in result.output
    on_dask = Project(on_dask.root)
    thresholds = dict(zip(local.codebook().ids, local.coding_engine().thresholds))
    assert _same_within_tolerance(_results(on_dask), _results(local), thresholds)
    # `run` codes as `code` does: the trained coder, whole turns and entries, the same codes
    assert {key[2].split(":")[0] for key in _results(local)[0]} == {"trained"}
    codes_only = lambda project: (_results(project)[0], [])  # noqa: E731 (the corpus fixture was never flagged)
    assert _same_within_tolerance(codes_only(local), codes_only(coded_corpus), thresholds)
    assert _results(local)[1], "the sample logbooks raise alerts"
    vectors, reference = _vectors(on_dask), _vectors(local)
    segment_keys = set(vectors)
    assert segment_keys <= set(reference)
    assert all(np.allclose(vectors[k], reference[k], atol=1e-5) for k in segment_keys)

    again = runner.invoke(app, base)
    assert "0 text(s) embedded" in again.output and "0 entr(y/ies) flagged (0 new alert(s))" in again.output
    assert _results(Project(on_dask.root)) == _results(on_dask)  # a re-run changes nothing, to the bit


def test_a_retried_partition_writes_nothing_twice(coded_corpus, tmp_path):
    project = _copy(coded_corpus, tmp_path / "p")
    entries = project.store.unflagged_entries()[:40]
    flags = flag_partition(project.engines.worker_spec(), *with_case_history(project.store, entries))
    first = store_flags(project.store, entries, flags)
    second = store_flags(project.store, entries, flags)
    assert first.alerts > 0 and second.alerts == 0
    assert project.store.query("SELECT COUNT(*) FROM flagged_documents")[0][0] == len(entries)
    texts = ["Et nyt besøg.", "Endnu et nyt besøg."]
    vectors = project.embedder().encode(texts)
    assert store_vectors(project.store, project.embedder().model_id, texts, vectors) == 2
    assert store_vectors(project.store, project.embedder().model_id, texts, vectors) == 0


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_an_unreachable_scheduler_is_a_one_line_error(corpus_project):
    result = CliRunner().invoke(
        app, ["--project", str(corpus_project.root), "run", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert result.exit_code == 2 and "--scheduler tcp://127.0.0.1:9: no Dask scheduler answers there" in result.output
