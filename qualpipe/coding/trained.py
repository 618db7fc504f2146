"""The trained theme coder at run time: the shipped head (coding.training) applied to units of text.

A unit is what the labelling guide codes: an interview turn or a logbook entry. Its score for a code is
the head's calibrated probability for the whole unit (its words, the mean vector of its sentences and,
for an interview turn, the mean vector of the interviewer's question it answers); the sentence that
carries the code (the evidence a reviewer sees) is the unit's sentence the head scores highest for it
on its own, with the same question.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from qualpipe.coding.training import calibrated
from qualpipe.learning.head import LinearHead, unit_means


def shipped_theme_model_path() -> Path:
    from qualpipe.data import data_path

    return data_path("theme_model.npz")


@lru_cache(maxsize=1)
def shipped_theme_model() -> LinearHead:
    return LinearHead.load(shipped_theme_model_path())


class TrainedCoder:
    """Calibrated per-code scores for units, and the per-code thresholds chosen on held-out writers."""

    def __init__(self, head: LinearHead):
        self.head = head
        self.codes = list(head.categories)
        self.thresholds = np.array([head.alert_[c] for c in self.codes])
        self.reads_question = head.context == "unit+question"

    def scores(self, texts: Sequence[str], vectors: np.ndarray, questions: np.ndarray | None = None) -> np.ndarray:
        """`vectors`: one per text (a unit's mean sentence vector, or a sentence's own); `questions`: the mean
        vector of the question each text answers (zeros, or None for all, where there is none)."""
        if not len(texts):
            return np.zeros((0, len(self.codes)))
        if self.reads_question:
            vectors = np.hstack([vectors, np.zeros_like(vectors) if questions is None else questions])
        raw = self.head.score(list(texts), vectors, [1] * len(texts))
        return calibrated(self.head, raw)

    def unit_scores(self, units: Sequence[Sequence[str]], sentence_vectors: np.ndarray,
                    questions: np.ndarray | None = None) -> np.ndarray:
        """Units given as their sentences; `sentence_vectors` holds every unit's sentences in order;
        `questions` as in `scores`, one row per unit."""
        return self.scores([" ".join(unit) for unit in units],
                           unit_means(sentence_vectors, [len(u) for u in units]), questions)
