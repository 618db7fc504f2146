"""The coding engine: units of text (a segment, or an entry's sentences) in, scored codes out."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from qualpipe.coding.codebook import Codebook
from qualpipe.coding.cues import CueMatcher
from qualpipe.coding.trained import TrainedCoder
from qualpipe.coding.zeroshot import ZeroShotCoder
from qualpipe.embed.base import Embedder
from qualpipe.learning.head import unit_means

if TYPE_CHECKING:  # scikit-learn (about 1.3 s and 130 MB to import) only for a project that learns its codes
    from qualpipe.coding.learn import LearnedCoder


@dataclass(frozen=True)
class ScoredCode:
    code: str
    score: float


class CodingEngine:
    """Embeds, matches cues and scores; the embedder may be a CachedEmbedder (see embed.cache).

    With `trained` (the shipped theme coder, for the built-in codebook), units are scored by it and each
    code has its own threshold; otherwise by zero-shot similarity (or, after `learn`, the learned coder)
    with one threshold."""

    def __init__(self, codebook: Codebook, embedder: Embedder, nlp, *, threshold: float = 0.5,
                 trained: TrainedCoder | None = None, zero_shot_cache: Path | None = None):
        if trained is not None and trained.codes != codebook.ids:
            trained = None  # another codebook: the trained head does not know its codes
        self.codebook = codebook
        self.embedder = embedder
        self.threshold = threshold
        self.cues = CueMatcher(codebook, nlp)
        self.trained = trained
        self._zero_shot: ZeroShotCoder | None = None
        self.zero_shot_cache = zero_shot_cache
        self.learned: LearnedCoder | None = None

    def with_learned(self, learned: LearnedCoder) -> "CodingEngine":
        """This engine coding with a coder learned from a project's human codes (this one is left as it is)."""
        engine = copy.copy(self)
        engine.learned = learned
        return engine

    @property
    def zero_shot(self) -> ZeroShotCoder:
        """Fitted on first use (it embeds the codebook's prototypes and the background sentences, or reads
        them from `zero_shot_cache`): the trained coder, the default, never needs it."""
        if self._zero_shot is None:
            self._zero_shot = ZeroShotCoder(self.codebook, self.embedder, threshold=self.threshold,
                                            cache=self.zero_shot_cache).fit()
        return self._zero_shot

    @property
    def method(self) -> str:
        return "learned" if self.learned is not None else "trained" if self.trained is not None else "zero-shot"

    @property
    def thresholds(self) -> np.ndarray:
        if self.learned is None and self.trained is not None:
            return self.trained.thresholds
        return np.full(len(self.codebook.codes), self.threshold)

    def features(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Per sentence: embeddings and cue hits."""
        return self.embedder.encode(list(texts), kind="passage", progress=progress), self.cues.hits(texts)

    def learning_features(self, X: np.ndarray, cues: np.ndarray) -> np.ndarray:
        z = (self.zero_shot.similarity(X) - self.zero_shot.background_mean_) / self.zero_shot.background_std_
        return np.hstack([X, cues, z])

    def sentence_scores(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        X, cues = self.features(texts, progress)
        if self.learned is not None:
            return self.learned.predict_proba(self.learning_features(X, cues))
        if self.trained is not None:
            return self.trained.scores(list(texts), X)
        return self.zero_shot.predict_proba(X, cues)

    def unit_scores(self, units: Sequence[Sequence[str]],
                    progress: Callable[[int, int], None] | None = None,
                    questions: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Units given as their sentences, all embedded in one call (one length-sorted pass). The trained coder
        reads the whole unit, with the sentences of the interviewer's question it answers where `questions`
        gives them (one list per unit, empty for none); otherwise a unit's score for a code is its best
        sentence's score: one clear sentence is evidence enough. `progress(done, total)` counts sentences
        embedded."""
        flat = [s for unit in units for s in unit]
        if self.trained is not None and self.learned is None:
            asked = [s for question in questions or () for s in question] if self.trained.reads_question else []
            vectors = (
                self.embedder.encode(flat + asked, kind="passage", progress=progress)
                if flat or asked else np.zeros((0, self.embedder.dim), np.float32)
            )
            question_vectors = unit_means(vectors[len(flat):], [len(q) for q in questions]) if asked else None
            return self.trained.unit_scores(units, vectors[:len(flat)], question_vectors)
        scores = self.sentence_scores(flat, progress) if flat else np.zeros((0, len(self.codebook.codes)))
        out = np.zeros((len(units), len(self.codebook.codes)))
        pos = 0
        for i, unit in enumerate(units):
            if unit:
                out[i] = scores[pos : pos + len(unit)].max(axis=0)
            pos += len(unit)
        return out

    def assigned(self, scores: np.ndarray) -> list[list[ScoredCode]]:
        """Codes at or above their threshold, best first."""
        result, thresholds = [], self.thresholds
        for row in scores:
            chosen = [
                ScoredCode(code, round(float(s), 4)) for code, s, t in zip(self.codebook.ids, row, thresholds) if s >= t
            ]
            result.append(sorted(chosen, key=lambda c: (-c.score, c.code)))
        return result
