"""Coding a project's segments, learning from human codes, the review queue, and evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from qualpipe.coding.engine import CodingEngine
from qualpipe.coding.learn import LearnedCoder, cross_validated_predictions
from qualpipe.coding.metrics import CodeAgreement, agreement
from qualpipe.errors import UserError
from qualpipe.store import insert_codings, utc_now

MACHINE = "qualpipe"
MIN_LEARNING_SEGMENTS = 10


@dataclass
class CodingReport:
    segments: int = 0
    codings: int = 0
    method: str = "zero-shot"
    model_id: str = ""
    cv_agreement: list[CodeAgreement] = field(default_factory=list)
    training_segments: int = 0


def codable_segments(project, include_interviewer: bool) -> list:
    return [s for s in project.segments() if include_interviewer or s.role != "interviewer"]


def human_labels(project, segment_ids: list[int], codes: list[str]) -> tuple[list[int], np.ndarray]:
    """Segments a human has coded or reviewed, with their codes as a boolean matrix."""
    rows = project.store.query(
        "SELECT segment_id, code FROM codings WHERE source = 'human' "
        "UNION ALL SELECT segment_id, NULL FROM reviews")
    labelled: dict[int, set[str]] = {}
    for row in rows:
        labelled.setdefault(row["segment_id"], set())
        if row["code"]:
            labelled[row["segment_id"]].add(row["code"])
    ids = [i for i in segment_ids if i in labelled]
    return ids, np.array([[c in labelled[i] for c in codes] for i in ids], dtype=bool).reshape(len(ids), len(codes))


def code_project(project, *, learn: bool = False, progress: Callable[[int, int], None] | None = None) -> CodingReport:
    """Score every codable segment, store the assigned codes (replacing earlier machine codes)."""
    engine: CodingEngine = project.coding_engine()
    segments = codable_segments(project, project.config.code_interviewer)
    report = CodingReport(segments=len(segments), model_id=engine.embedder.model_id)
    if not segments:
        return report
    texts = [s.norm_text for s in segments]
    X, cues = engine.features(texts)
    if learn:
        codes = engine.codebook.ids
        ids, Y = human_labels(project, [s.id for s in segments], codes)
        if len(ids) < MIN_LEARNING_SEGMENTS:
            raise UserError(
                f"--learn needs human codes on at least {MIN_LEARNING_SEGMENTS} segments (found {len(ids)}); "
                "import them with 'qualpipe import' (CSV, JSONL or .qdpx) or code the 'qualpipe review' queue"
            )
        position = {s.id: i for i, s in enumerate(segments)}
        F = engine.learning_features(X, cues)
        train = F[[position[i] for i in ids]]
        coder = LearnedCoder(codes, threshold=engine.threshold)
        report.cv_agreement = agreement(Y, cross_validated_predictions(coder, train, Y) >= engine.threshold, codes)
        report.training_segments = len(ids)
        engine.learned = coder.fit(train, Y)
        scores = engine.learned.predict_proba(F)
        report.method = "learned"
    else:
        scores = engine.zero_shot.predict_proba(X, cues)
    report.codings = store_machine_codes(project.store, segments, engine, scores, f"{report.method}:{engine.embedder.model_id}")
    if progress:
        progress(len(segments), len(segments))
    return report


def store_machine_codes(store, segments, engine: CodingEngine, scores: np.ndarray, method: str) -> int:
    """Replace these segments' machine codes by the ones their scores assign, atomically; returns how many."""
    now = utc_now()
    rows = []
    for segment, assigned in zip(segments, engine.assigned(scores)):
        rows += [(segment.id, c.code, c.score, "machine", MACHINE, method, segment.start, segment.end, now) for c in assigned]
    with store.transaction() as conn:
        conn.executemany("DELETE FROM codings WHERE source = 'machine' AND segment_id = ?", [(s.id,) for s in segments])
        insert_codings(conn, rows)
    return len(rows)


@dataclass(frozen=True)
class ReviewItem:
    segment_id: int
    case_id: str | None
    role: str
    code: str
    score: float
    uncertainty: float
    text: str


def review_queue(project, limit: int = 20) -> list[ReviewItem]:
    """Segments no human has looked at, the most uncertain first: a score nearest the threshold."""
    engine: CodingEngine = project.coding_engine()
    segments = [s for s in codable_segments(project, project.config.code_interviewer)]
    reviewed = {r[0] for r in project.store.query(
        "SELECT segment_id FROM reviews UNION SELECT segment_id FROM codings WHERE source = 'human'")}
    segments = [s for s in segments if s.id not in reviewed]
    if not segments:
        return []
    scores = engine.sentence_scores([s.norm_text for s in segments])
    distance = np.abs(scores - engine.threshold)
    closest = distance.argmin(axis=1)
    items = [
        ReviewItem(s.id, s.case_id, s.role, engine.codebook.ids[j], round(float(scores[i, j]), 4),
                   round(1.0 - 2 * float(distance[i, j]), 4), s.text)
        for i, (s, j) in enumerate(zip(segments, closest))
    ]
    items.sort(key=lambda item: (-item.uncertainty, item.segment_id))
    return items[:limit]


def evaluate_against(project, gold: dict[int, set[str]]) -> list[CodeAgreement]:
    """Stored machine codes against human codes on the same segments."""
    codes = project.codebook().ids
    machine: dict[int, set[str]] = {}
    for row in project.store.query("SELECT segment_id, code FROM codings WHERE source = 'machine'"):
        machine.setdefault(row["segment_id"], set()).add(row["code"])
    ids = sorted(gold)
    unknown = [i for i in ids if not project.store.query("SELECT 1 FROM segments WHERE id = ?", (i,))]
    if unknown:
        raise UserError(f"--gold: segment id(s) {unknown[:5]} are not in this project; use ids from 'qualpipe segments'")
    Y = np.array([[c in gold[i] for c in codes] for i in ids], dtype=bool).reshape(len(ids), len(codes))
    P = np.array([[c in machine.get(i, set()) for c in codes] for i in ids], dtype=bool).reshape(len(ids), len(codes))
    return agreement(Y, P, codes)
