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


def agreement(
    gold: np.ndarray, predicted: np.ndarray, codes: list[str], known: np.ndarray | None = None
) -> list[CodeAgreement]:
    """Rows are units (segments or entries), columns codes; both boolean matrices. With `known` (same
    shape), each code is scored only on the rows where its human label is known."""
    rows = []
    for j, code in enumerate(codes):
        keep = slice(None) if known is None else known[:, j].astype(bool)
        g, p = gold[keep, j].astype(bool), predicted[keep, j].astype(bool)
        precision, recall, f1, _ = precision_recall_fscore_support(g, p, average="binary", zero_division=0)
        kappa = cohen_kappa_score(g, p) if (g.any() or p.any()) and not (g == p).all() else float((g == p).all())
        rows.append(
            CodeAgreement(code, int(g.sum()), int(p.sum()), float(precision), float(recall), float(f1), float(kappa))
        )
    return rows


def macro_f1(rows: list[CodeAgreement]) -> float:
    scored = [r.f1 for r in rows if r.support > 0]
    return float(np.mean(scored)) if scored else 0.0


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of coder `a` with coder `b` (b as the reference) on the segments both coded; `None`
    (shown as n/a) where neither used the code on those segments."""

    a: str
    b: str
    code: str
    segments: int
    precision: float | None
    recall: float | None
    f1: float | None
    kappa: float | None


def pairwise(coders: dict[str, dict[int, set[str]]], codes: list[str]) -> list[PairAgreement]:
    """Every pair of coders, per code, on the segments both have coded (or reviewed)."""
    names = sorted(coders)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            common = sorted(set(coders[a]) & set(coders[b]))
            if not common:
                continue
            A = np.array([[c in coders[a][s] for c in codes] for s in common], dtype=bool)
            B = np.array([[c in coders[b][s] for c in codes] for s in common], dtype=bool)
            for row in agreement(B, A, codes):
                used = row.support or row.predicted
                out.append(
                    PairAgreement(
                        a,
                        b,
                        row.code,
                        len(common),
                        *((row.precision, row.recall, row.f1, row.kappa) if used else (None, None, None, None)),
                    )
                )
    return out


def alpha(coders: dict[str, dict[int, set[str]]], codes: list[str]) -> dict[str, float | None]:
    """Krippendorff's alpha per code (nominal: present/absent) over all coders and their segments;
    a coder who did not look at a segment is a missing value. None where no coder used the code."""
    import krippendorff

    names = sorted(coders)
    segments = sorted({s for coded in coders.values() for s in coded})
    out: dict[str, float | None] = {}
    for code in codes:
        data = np.array([[float(code in coders[n][s]) if s in coders[n] else np.nan for s in segments] for n in names])
        if len(names) < 2 or not np.nansum(data) or np.nanmin(data) == np.nanmax(data):
            out[code] = None
            continue
        with np.errstate(divide="ignore", invalid="ignore"):  # no disagreement expected: alpha is undefined
            value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        out[code] = None if np.isnan(value) else value
    return out
