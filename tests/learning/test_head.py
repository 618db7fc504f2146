"""The linear head scores a run's sentences in blocks of whole entries, with the very numbers of one pass."""

from __future__ import annotations

import json

import numpy as np

from qualpipe.coding.trained import shipped_theme_model
from qualpipe.flagging.model import ConcernHead, entry_view, load_concern_model
from qualpipe.learning.head import LinearHead

from conftest import CORPUS


def _sentences() -> tuple[list[str], list[int]]:
    entries = [json.loads(line)["text"] for line in
               (CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl").read_text(encoding="utf-8").splitlines()][:40]
    split = [[s for s in entry.split(". ") if s] for entry in entries] + [[]]  # and an entry without sentences
    return [s for sents in split for s in sents], [len(sents) for sents in split]


def test_scoring_in_blocks_of_entries_gives_exactly_the_one_pass_scores():
    sentences, sizes = _sentences()
    vectors = np.random.default_rng(3).standard_normal((len(sentences), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert len(sentences) > 20 and max(sizes) > 1
    concern, theme = load_concern_model(None), shipped_theme_model()
    for head in (concern, theme):
        # the theme coder reads each unit's question beside it: here another sentence's vector
        given = np.hstack([vectors, vectors[::-1]]) if head.context == "unit+question" else vectors
        whole = head.predict_proba(head.features(sentences, given, sizes))
        blocks = LinearHead.score(head, sentences, given, sizes, block=7)
        assert blocks.dtype == whole.dtype and np.array_equal(blocks, whole)
        assert np.array_equal(LinearHead.score(head, sentences, given, sizes), whole)
    # the concern head with its whole-entry head blended in: blocks of whole entries, the same numbers again
    assert concern.entry_ is not None
    one_pass = concern.score(sentences, vectors, sizes, block=10 ** 6)
    assert np.array_equal(concern.score(sentences, vectors, sizes, block=7), one_pass)
    sentence_only = concern.predict_proba(concern.features(sentences, vectors, sizes))
    texts, means = entry_view(sentences, vectors, sizes)
    whole = np.repeat(concern.entry_.predict_proba(concern.entry_.features(texts, means, [1] * len(texts))), sizes, 0)
    assert concern.blend == "mean" and np.allclose(one_pass, (sentence_only + whole) / 2, atol=1e-6)
    # the n-gram features built beforehand, as the flagger builds them while it embeds: the same numbers
    prepared = concern.prepare(sentences, sizes)
    assert prepared[0].shape[0] == len(sentences) and prepared[1].shape[0] == len(sizes)
    assert np.array_equal(concern.score(sentences, vectors, sizes, block=7, prepared=prepared), one_pass)


def test_a_concern_model_saved_before_the_blend_was_recorded_is_read_as_it_was_trained(tmp_path):
    # Models trained before 2026-11-30's afternoon (a project's own, from `flag train --with-feedback`) raised a
    # sentence's score to the mean only where that was higher; their thresholds were chosen for that.
    path = tmp_path / "concern_model.npz"
    load_concern_model(None).save(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta.pop("blend") == "mean"
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    older, current = ConcernHead.load(path), load_concern_model(None)
    sentences, sizes = _sentences()
    vectors = np.random.default_rng(5).standard_normal((len(sentences), 384)).astype(np.float32)
    sentence_only = older.predict_proba(older.features(sentences, vectors, sizes))
    assert older.blend == "max" and (older.score(sentences, vectors, sizes) >= sentence_only).all()
    assert (older.score(sentences, vectors, sizes) >= current.score(sentences, vectors, sizes)).all()


def test_training_keeps_the_default_C_unless_another_wins_clearly_so_another_cpus_vectors_do_not_flip_it():
    from qualpipe.learning.head import DEFAULT_C, choose_C

    # dev micro F1 by C from a retraining on vectors moved as another kind of CPU moves them (README, "Cross-CPU")
    assert choose_C({0.5: (False, 0.7344), 2.0: (False, 0.7407), 8.0: (False, 0.7516)}) == DEFAULT_C
    assert choose_C({0.5: (False, 0.70), 2.0: (False, 0.71), 8.0: (False, 0.74)}) == 8.0
    assert choose_C({2.0: (False, 0.75), 8.0: (True, 0.70)}) == 8.0  # the urgent recall target met first
    assert choose_C({0.5: (0.51,), 8.0: (0.50,)}) == 0.5  # without the default among the candidates: the best
