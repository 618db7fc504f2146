"""The learned concern detector: reproduced by its training command, and corrected by a coordinator's feedback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import REPO, new_corpus_project
from qualpipe.cli import app
from qualpipe.flagging.model import ConcernHead, shipped_model_path
from qualpipe.flagging.training import load_corpus

CORPUS_DEV = REPO / "corpora" / "dev"


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """The shipped model's training command, run again from the corpus with the documented seed."""
    out = tmp_path_factory.mktemp("model") / "concern_model.npz"
    result = CliRunner().invoke(app, ["flag", "train", "--corpus", str(CORPUS_DEV), "--seed", "13", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return ConcernHead.load(out), result.output


def test_the_training_command_reproduces_the_shipped_weights_and_thresholds(retrained):
    head, output = retrained
    shipped = ConcernHead.load(shipped_model_path())
    assert head.categories == shipped.categories and head.info["combine"] == shipped.info["combine"]
    # Same corpus and seed: the same weights, up to float16 storage and the engine's per-CPU rounding.
    assert np.allclose(head.coef_, shipped.coef_, atol=2e-3) and np.allclose(head.intercept_, shipped.intercept_, atol=2e-3)
    assert all(abs(head.alert_[k] - shipped.alert_[k]) < 0.02 for k in head.categories)
    assert "test split: P" in output and "urgent" in output


def test_the_shipped_model_stores_what_was_trained_and_stays_small():
    path = shipped_model_path()
    assert path.stat().st_size < 2_000_000  # the head only: no vocabulary, no encoder copy
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["embedder"] == "e5-small-fast" and meta["seed"] == 13
    assert set(meta["alert"]) == set(meta["categories"])


def test_the_corpus_split_keeps_writers_and_cases_apart():
    entries = load_corpus(CORPUS_DEV)
    by_split = {s: {e.writer for e in entries if e.split == s} for s in ("train", "dev", "test")}
    cases = {s: {e.case_id for e in entries if e.split == s} for s in ("train", "dev", "test")}
    assert by_split["test"] and by_split["dev"] and by_split["train"]
    assert not (by_split["test"] & (by_split["train"] | by_split["dev"])) and not (by_split["dev"] & by_split["train"])
    assert not (cases["test"] & (cases["train"] | cases["dev"])) and not (cases["dev"] & cases["train"])
    assert len(entries) >= 2400 and sum(any(s == "urgent" for _, s, *_ in e.concerns) for e in entries) >= 250
