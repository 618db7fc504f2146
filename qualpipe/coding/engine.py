"""The coding engine: units of text (a segment, or an entry's sentences) in, scored codes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qualpipe.coding.codebook import Codebook
from qualpipe.coding.cues import CueMatcher
from qualpipe.coding.learn import LearnedCoder
from qualpipe.coding.zeroshot import ZeroShotCoder
from qualpipe.embed.base import Embedder


@dataclass(frozen=True)
class ScoredCode:
    code: str
    score: float


class CodingEngine:
    """Embeds, matches cues and scores; the embedder may be a CachedEmbedder (see embed.cache)."""

    def __init__(self, codebook: Codebook, embedder: Embedder, nlp, *, threshold: float = 0.5):
        self.codebook = codebook
        self.embedder = embedder
        self.threshold = threshold
        self.cues = CueMatcher(codebook, nlp)
        self.zero_shot = ZeroShotCoder(codebook, embedder, threshold=threshold).fit()
        self.learned: LearnedCoder | None = None

    def features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per sentence: embeddings and cue hits."""
        return self.embedder.encode(list(texts), kind="passage"), self.cues.hits(texts)

    def learning_features(self, X: np.ndarray, cues: np.ndarray) -> np.ndarray:
        z = (self.zero_shot.similarity(X) - self.zero_shot.background_mean_) / self.zero_shot.background_std_
        return np.hstack([X, cues, z])

    def sentence_scores(self, texts: Sequence[str]) -> np.ndarray:
        X, cues = self.features(texts)
        if self.learned is not None:
            return self.learned.predict_proba(self.learning_features(X, cues))
        return self.zero_shot.predict_proba(X, cues)

    def unit_scores(self, units: Sequence[Sequence[str]]) -> np.ndarray:
        """A unit's score for a code is its best sentence's score: one clear sentence is evidence enough."""
        flat = [s for unit in units for s in unit]
        scores = self.sentence_scores(flat) if flat else np.zeros((0, len(self.codebook.codes)))
        out = np.zeros((len(units), len(self.codebook.codes)))
        pos = 0
        for i, unit in enumerate(units):
            if unit:
                out[i] = scores[pos:pos + len(unit)].max(axis=0)
            pos += len(unit)
        return out

    def assigned(self, scores: np.ndarray) -> list[list[ScoredCode]]:
        """Codes at or above the threshold, best first."""
        result = []
        for row in scores:
            chosen = [ScoredCode(code, round(float(s), 4)) for code, s in zip(self.codebook.ids, row) if s >= self.threshold]
            result.append(sorted(chosen, key=lambda c: (-c.score, c.code)))
        return result
