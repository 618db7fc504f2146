"""Zero-shot coding: similarity to each code's definition and examples, against a neutral background, plus cues."""

from __future__ import annotations

import numpy as np

from qualpipe.coding.codebook import Codebook
from qualpipe.data import read_lines
from qualpipe.embed.base import Embedder


def background_sentences() -> list[str]:
    return read_lines("background.da.txt")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ZeroShotCoder:
    """scikit-learn shape: parameters in __init__, `fit` embeds prototypes and background, `predict_proba` scores.

    A segment's similarity to a code is the mean of its two highest cosines to the code's
    prototypes (definition + examples). That similarity is turned into a z-score against
    neutral background sentences, so every code is on the same scale; a cue hit adds
    `cue_weight`. The score is a logistic function of that evidence, in [0, 1].
    """

    def __init__(self, codebook: Codebook, embedder: Embedder, *, z_center: float = 2.5, z_scale: float = 1.0,
                 cue_weight: float = 1.5, threshold: float = 0.5, top_k: int = 2):
        self.codebook = codebook
        self.embedder = embedder
        self.z_center = z_center
        self.z_scale = z_scale
        self.cue_weight = cue_weight
        self.threshold = threshold
        self.top_k = top_k

    def fit(self, background: list[str] | None = None) -> "ZeroShotCoder":
        self.prototypes_ = [
            self.embedder.encode(code.prototype_texts(), kind="passage") for code in self.codebook.codes
        ]
        reference = self.similarity(self.embedder.encode(background or background_sentences(), kind="passage"))
        self.background_mean_ = reference.mean(axis=0)
        self.background_std_ = reference.std(axis=0) + 1e-6
        return self

    def similarity(self, X: np.ndarray) -> np.ndarray:
        columns = []
        for prototypes in self.prototypes_:
            sims = X @ prototypes.T
            k = min(self.top_k, sims.shape[1])
            columns.append(np.sort(sims, axis=1)[:, -k:].mean(axis=1))
        return np.stack(columns, axis=1)

    def predict_proba(self, X: np.ndarray, cues: np.ndarray) -> np.ndarray:
        z = (self.similarity(X) - self.background_mean_) / self.background_std_
        return _sigmoid((z - self.z_center) / self.z_scale + self.cue_weight * cues)

    def predict(self, X: np.ndarray, cues: np.ndarray) -> np.ndarray:
        return self.predict_proba(X, cues) >= self.threshold
