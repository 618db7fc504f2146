"""Agreement between machine and human codes: per-code precision, recall, F1 and Cohen's kappa."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    support: int
    predicted: int
    precision: float
    recall: float
    f1: float
    kappa: float


def agreement(gold: np.ndarray, predicted: np.ndarray, codes: list[str]) -> list[CodeAgreement]:
    """Rows are units (segments or entries), columns codes; both boolean matrices."""
    rows = []
    for j, code in enumerate(codes):
        g, p = gold[:, j].astype(bool), predicted[:, j].astype(bool)
        precision, recall, f1, _ = precision_recall_fscore_support(g, p, average="binary", zero_division=0)
        kappa = cohen_kappa_score(g, p) if (g.any() or p.any()) and not (g == p).all() else float((g == p).all())
        rows.append(CodeAgreement(code, int(g.sum()), int(p.sum()), float(precision), float(recall), float(f1), float(kappa)))
    return rows


def macro_f1(rows: list[CodeAgreement]) -> float:
    scored = [r.f1 for r in rows if r.support > 0]
    return float(np.mean(scored)) if scored else 0.0
