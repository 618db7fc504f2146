"""Zero-shot coding: similarity to each code's definition and examples, against a neutral background, plus cues."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

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
                 cue_weight: float = 1.5, threshold: float = 0.5, top_k: int = 2, cache: Path | None = None):
        self.codebook = codebook
        self.embedder = embedder
        self.z_center = z_center
        self.z_scale = z_scale
        self.cue_weight = cue_weight
        self.threshold = threshold
        self.top_k = top_k
        self.cache = cache  # a folder for fitted states, or None

    def fit(self, background: list[str] | None = None) -> "ZeroShotCoder":
        """Embeds each code's prototypes and the background sentences (about 110 texts for the built-in
        codebook, 1-2 s); with `cache`, a state fitted before with the same model, prototypes, background
        and top_k is read from its file instead."""
        prototypes = [code.prototype_texts() for code in self.codebook.codes]
        background = background or background_sentences()
        path = self._state_file(prototypes, background) if self.cache is not None else None
        if path is not None and path.is_file():
            with np.load(path) as state:
                counts = np.cumsum(state["counts"])[:-1]
                self.prototypes_ = np.split(state["prototypes"], counts) if len(counts) else [state["prototypes"]]
                self.background_mean_, self.background_std_ = state["mean"], state["std"]
            return self
        self.prototypes_ = [self.embedder.encode(texts, kind="passage") for texts in prototypes]
        reference = self.similarity(self.embedder.encode(background, kind="passage"))
        self.background_mean_ = reference.mean(axis=0)
        self.background_std_ = reference.std(axis=0) + 1e-6
        if path is not None:
            self._save(path)
        return self

    def _state_file(self, prototypes: list[list[str]], background: list[str]) -> Path:
        """Named by everything the fitted state depends on: a changed codebook or model gets its own file."""
        recipe = json.dumps([self.embedder.model_id, self.top_k, prototypes, background], ensure_ascii=False)
        return Path(self.cache) / f"zero-shot-{hashlib.sha256(recipe.encode('utf-8')).hexdigest()[:32]}.npz"

    def _save(self, path: Path) -> None:
        from qualpipe.private_files import private_file

        # vectors only, no text; owner-only all the same (a project's codebook examples may quote entries)
        with private_file(path, "wb") as handle:
            np.savez(handle, prototypes=np.concatenate(self.prototypes_),
                     counts=np.array([len(p) for p in self.prototypes_]),
                     mean=self.background_mean_, std=self.background_std_)

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
