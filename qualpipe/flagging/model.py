"""The learned concern detector: a multi-label head over each sentence's words and its e5 vectors in context.

Each sentence of an entry is represented by its character n-grams (hashed, tf-idf), its own e5 vector,
the mean of its neighbours' vectors (the sentence before and after) and the entry's mean vector, so a
disclosure told over two sentences or a harmless word in a worrying entry is read with what surrounds
it. One logistic regression per
category scores each sentence; an entry's score for a category is its best sentence's, and that
sentence is the evidence. Thresholds per category were chosen on the writer-disjoint dev split
(`qualpipe flag train`), with a lower "check" threshold for the urgent categories: entries between
the two are shown to the coordinator in their own section, never dropped.

Why this and not fine-tuned top layers of e5: the dev split decided (README, "Concerns"): the words
carried most of what separates a disclosure from its innocent look-alikes, fine-tuning gained little
over the frozen vectors, and this costs nothing at run time beyond the embedding the flagger does anyway.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from qualpipe.learning.head import HASH_FEATURES, NGRAMS, LinearHead, sentence_features  # noqa: F401 (the benches use them)


class ConcernHead(LinearHead):
    """The concern detector's head: a LinearHead in sentence context, one output per category and per
    "high" severity head; `alert_`/`check_` are the thresholds chosen on dev."""


def shipped_model_path() -> Path:
    from qualpipe.data import data_path

    return data_path("concern_model.npz")


def load_concern_model(path: Path | None = None) -> ConcernHead:
    """A trained concern model: `path`, or the one shipped with qualpipe (read once per process)."""
    if path is None:
        return _shipped()
    try:
        return ConcernHead.load(path)
    except (OSError, ValueError, KeyError) as exc:
        from qualpipe.errors import UserError

        raise UserError(f"{path}: not a usable concern model ({exc}); retrain it with 'qualpipe flag train'") from None


@lru_cache(maxsize=1)
def _shipped() -> ConcernHead:
    return ConcernHead.load(shipped_model_path())
