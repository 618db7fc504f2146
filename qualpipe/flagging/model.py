"""The learned concern detector: a multi-label head over each sentence's words and its e5 vectors in context,
blended with a head over the whole entry.

Each sentence of an entry is represented by its character n-grams (hashed, tf-idf), its own e5 vector,
the mean of its neighbours' vectors (the sentence before and after) and the entry's mean vector, so a
disclosure told over two sentences or a harmless word in a worrying entry is read with what surrounds
it. One logistic regression per category scores each sentence. A second head reads the entry as one text
(its n-grams and its mean sentence vector), trained on the entries' own labels rather than on the
sentences that hold the evidence. A sentence's score is the mean of the two (`blend` "mean"; models trained
before 2026-11-30's afternoon use "max": the mean only where it raises the sentence's own score). Low mood told
in passing across a long entry, or a disclosure spread over three sentences, reaches the entry head where no
single sentence carries it; a plain disclosure that the mean pulls below its alert threshold is held by the
rules (an urgent lexicon match ConText lets stand is an alert at the check threshold, `decide_entry`). The
best sentence is the evidence. Thresholds per category
were chosen on the writer-disjoint dev split (`qualpipe flag train`), with a lower "check" threshold for the
urgent categories: entries between the two are shown to the coordinator in their own section, never dropped.

Why this and not fine-tuned top layers of e5: the dev split decided (README, "Concerns"): the words
carried most of what separates a disclosure from its innocent look-alikes, fine-tuning gained little
over the frozen vectors, and this costs nothing at run time beyond the embedding the flagger does anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from qualpipe import preload
from qualpipe.learning.head import HASH_FEATURES, NGRAMS, LinearHead, sentence_features, unit_means  # noqa: F401


class ConcernHead(LinearHead):
    """The concern detector's head: a LinearHead in sentence context, one output per category and per
    "high" severity head; `alert_`/`check_` are the thresholds chosen on dev. `entry_` (optional): the
    whole-entry head blended into every sentence's score (see the module's docstring)."""

    entry_: LinearHead | None = None
    blend: str = "mean"  # how the entry head joins a sentence's score: "mean", or "max" (older models)

    def score(self, sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int], *,
              prepared: tuple | None = None, **kwargs) -> np.ndarray:
        """Per sentence and output: the mean of the sentence head's probability and the entry's whole-entry
        probability (with `blend` "max", that mean only where it is higher than the sentence's own).
        `sizes`: sentences per entry, in order; `prepared`: what `prepare` built from the same sentences."""
        sentence_ngrams, entry_ngrams = prepared if prepared is not None else (None, None)
        proba = super().score(sentences, vectors, sizes, ngrams=sentence_ngrams, **kwargs)
        if self.entry_ is None or not len(proba):
            return proba
        texts, means = entry_view(sentences, vectors, sizes)
        whole = self.entry_.score(texts, means, [1] * len(texts), ngrams=entry_ngrams, **kwargs)
        mean = (proba + np.repeat(whole, list(sizes), axis=0)) / 2
        return np.maximum(proba, mean) if self.blend == "max" else mean

    def prepare(self, sentences: Sequence[str], sizes: Sequence[int]) -> tuple:
        """Both heads' n-gram features of these sentences (entries of `sizes` sentences), for `score(...,
        prepared=)`: they need the words only, so the flagger builds them while the sentences are embedded."""
        entry = None if self.entry_ is None else self.entry_.text_features(entry_texts(sentences, sizes))
        return self.text_features(sentences), entry

    def _extra_meta(self) -> dict:
        return {"blend": self.blend}

    def _read_extra_meta(self, meta: dict) -> None:
        self.blend = meta.get("blend", "max")  # every model saved before the key existed was trained with "max"

    def fit_entries(self, sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int], Y: np.ndarray,
                    W: np.ndarray | None = None) -> "ConcernHead":
        """Fit the whole-entry head on entry labels `Y` (entries x outputs; `W` each label's weight)."""
        texts, means = entry_view(sentences, vectors, sizes)
        head = LinearHead(self.categories, C=self.C, class_weight=self.class_weight, seed=self.seed,
                          embedder=self.embedder, context="unit").fit_idf(texts)
        self.entry_ = head.fit(head.features(texts, means, [1] * len(texts)), Y, W)
        return self

    def save(self, path: Path) -> None:
        super().save(path)
        entry = entry_head_path(path)
        if self.entry_ is not None:
            self.entry_.save(entry)
        else:  # a sentence-only head must not pick up an older entry head left beside it
            entry.unlink(missing_ok=True)
            entry.with_suffix(".json").unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> "ConcernHead":
        head = super().load(path)
        entry = entry_head_path(path)
        head.entry_ = LinearHead.load(entry) if entry.is_file() else None
        return head


def entry_head_path(path: Path) -> Path:
    """Where a concern model's whole-entry head is kept: beside it, `NAME.entry.npz`."""
    path = Path(path)
    return path.with_name(f"{path.stem}.entry{path.suffix}")


def entry_view(sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """Each entry as the whole-entry head reads it: its text (`entry_texts`) and its sentences' mean vector."""
    return entry_texts(sentences, sizes), unit_means(vectors, sizes)


def entry_texts(sentences: Sequence[str], sizes: Sequence[int]) -> list[str]:
    """Each entry's sentences joined, as the flagger split and spaced them."""
    texts, at = [], 0
    for n in sizes:
        texts.append(" ".join(sentences[at:at + n]))
        at += n
    return texts


def shipped_model_path() -> Path:
    from qualpipe.data import data_path

    return data_path("concern_model.npz")


def load_concern_model(path: Path | None = None) -> ConcernHead:
    """A trained concern model: `path`, or the one shipped with qualpipe (read once per process)."""
    if path is None:
        return _SHIPPED.get()
    try:
        return ConcernHead.load(path)
    except (OSError, ValueError, KeyError) as exc:
        from qualpipe.errors import UserError

        raise UserError(f"{path}: not a usable concern model ({exc}); retrain it with 'qualpipe flag train'") from None


def start_loading_shipped_model() -> None:
    """Start reading the shipped concern model in the background (about 0.5 s of decompressing and widening
    that overlaps the weekly run's ingest); `load_concern_model()` then waits for it."""
    _SHIPPED.start()


_SHIPPED = preload.Loader("concern-model", lambda: ConcernHead.load(shipped_model_path()))
