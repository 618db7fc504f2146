"""Learning from an evaluator's codes: one logistic regression per code on embeddings and cue features."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold


class LearnedCoder:
    """scikit-learn shape. Codes the evaluator never used (or always used) get a constant score."""

    def __init__(self, codes: list[str], *, C: float = 1.0, threshold: float = 0.5, random_state: int = 0):
        self.codes = codes
        self.C = C
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X: np.ndarray, Y: np.ndarray, known: np.ndarray | None = None) -> "LearnedCoder":
        """`known` (rows x codes, optional): where the human label is known; each code learns from those rows only."""
        self.models_: list[LogisticRegression | float] = []
        for j in range(len(self.codes)):
            rows = np.arange(len(Y)) if known is None else np.flatnonzero(known[:, j])
            y = Y[rows, j].astype(int)
            if len(y) == 0 or y.min() == y.max():
                self.models_.append(float(y[0]) if len(y) else 0.0)
                continue
            model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, random_state=self.random_state)
            self.models_.append(model.fit(X[rows], y))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        columns = [
            np.full(len(X), m) if isinstance(m, float) else m.predict_proba(X)[:, 1]
            for m in self.models_
        ]
        return np.stack(columns, axis=1) if columns else np.zeros((len(X), 0))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X) >= self.threshold


def cross_validated_predictions(coder: LearnedCoder, X: np.ndarray, Y: np.ndarray, folds: int = 5, seed: int = 0,
                                known: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold probabilities for every row: what agreement to expect on segments not yet coded."""
    out = np.zeros(Y.shape, dtype=float)
    splitter = KFold(n_splits=min(folds, len(X)), shuffle=True, random_state=seed)
    for train, test in splitter.split(X):
        fold = LearnedCoder(coder.codes, C=coder.C, threshold=coder.threshold, random_state=coder.random_state)
        out[test] = fold.fit(X[train], Y[train], None if known is None else known[train]).predict_proba(X[test])
    return out
