"""Coding a project's segments, learning from human codes, the review queue, and evaluation."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from qualpipe.coding.engine import CodingEngine
from qualpipe.coding.learn import LearnedCoder, cross_validated_predictions
from qualpipe.coding.metrics import CodeAgreement, agreement, macro_f1
from qualpipe.errors import UserError
from qualpipe.learning.head import unit_means
from qualpipe.store import insert_codings, utc_now

MACHINE = "qualpipe"
MIN_LEARNING_SEGMENTS = 10
MIN_EXAMPLES_PER_CODE = 5  # fewer human positives than this for a code: --learn warns


@dataclass
class CodingReport:
    segments: int = 0
    codings: int = 0
    method: str = "zero-shot"
    model_id: str = ""
    cv_agreement: list[CodeAgreement] = field(default_factory=list)
    trained_agreement: list[CodeAgreement] = field(default_factory=list)  # --learn: the trained coder's, same segments
    training_segments: int = 0
    warnings: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)  # zero-shot codes with neither definition nor examples


def codable_segments(store, include_interviewer: bool) -> list:
    """The current segments that are coded: the interviewer's questions only when asked for."""
    return [s for s in store.segments() if include_interviewer or s.role != "interviewer"]


def human_labels(store, segment_ids: list[int], codes: list[str]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Segments a human has decided something about, with their codes (Y) and where each label is known (K):
    a human coding is a yes; a 'no' decision (rejected in `qualpipe review`, or a machine code the evaluator
    removed in a QDA program), or a segment marked reviewed (a CSV row without a code) without that code, is
    a no; anything else (a machine code nobody touched) is unknown."""
    index = {c: j for j, c in enumerate(codes)}
    yes: dict[int, set[str]] = {}
    no: dict[int, set[str]] = {}
    whole: set[int] = {r[0] for r in store.query("SELECT segment_id FROM reviews")}
    for row in store.query("SELECT segment_id, code FROM codings WHERE source = 'human'"):
        yes.setdefault(row["segment_id"], set()).add(row["code"])
    for row in store.query("SELECT segment_id, code, decision FROM code_decisions"):
        (yes if row["decision"] == "yes" else no).setdefault(row["segment_id"], set()).add(row["code"])
    ids = [i for i in segment_ids if i in yes or i in no or i in whole]
    Y = np.zeros((len(ids), len(codes)), dtype=bool)
    K = np.zeros((len(ids), len(codes)), dtype=bool)
    for r, i in enumerate(ids):
        for code in yes.get(i, ()):
            if code in index:
                Y[r, index[code]] = K[r, index[code]] = True
        for code in no.get(i, ()):
            if code in index:
                K[r, index[code]] = True
        if i in whole:
            K[r] = True
    return ids, Y, K


def decide(store, codebook, segment_id: int, code: str, decision: str, coder: str) -> None:
    """An evaluator's decision on one code for one segment: 'yes' (accept or add: stored as the coder's
    human coding too) or 'no' (reject). A later decision replaces an earlier one; atomic."""
    if decision not in ("yes", "no"):
        raise UserError(f"decision {decision!r}: use 'yes' or 'no'")
    if codebook.find(code) is None:
        raise UserError(f"code {code!r} is not in the codebook; use one of {', '.join(codebook.ids)}")
    code = codebook.find(code).id
    segment = store.query("SELECT start, end FROM segments WHERE id = ?", (segment_id,))
    if not segment:
        raise UserError(f"segment {segment_id} is not in this project; use ids from 'qualpipe review'")
    now = utc_now()
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO code_decisions (segment_id, code, coder, decision, decided_at) VALUES (?,?,?,?,?)",
            (segment_id, code, coder, decision, now),
        )
        conn.execute(
            "DELETE FROM codings WHERE source = 'human' AND segment_id = ? AND code = ? AND coder = ?",
            (segment_id, code, coder),
        )
        if decision == "yes":
            insert_codings(
                conn, [(segment_id, code, None, "human", coder, "review", segment[0]["start"], segment[0]["end"], now)]
            )


def code_segments(
    store,
    engine: CodingEngine,
    segments: list,
    *,
    learn: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CodingReport:
    """Score `segments` (the codable ones) with `engine`, store the assigned codes (replacing earlier machine
    codes). With `learn`, a coder is fitted on the store's human codes first and codes instead."""
    report = CodingReport(segments=len(segments), model_id=engine.embedder.model_id)
    if engine.method == "zero-shot" and not learn:
        report.undefined = [c.id for c in engine.codebook.codes if not c.defined]
    if not segments:
        return report
    texts = [s.norm_text for s in segments]
    X, cues = engine.features(texts)
    if learn:
        codes = engine.codebook.ids
        ids, Y, K = human_labels(store, [s.id for s in segments], codes)
        if len(ids) < MIN_LEARNING_SEGMENTS:
            raise UserError(
                f"--learn needs human codes on at least {MIN_LEARNING_SEGMENTS} segments (found {len(ids)}); "
                "import them with 'qualpipe import' (CSV, JSONL or .qdpx) or code the 'qualpipe review' queue"
            )
        position = {s.id: i for i, s in enumerate(segments)}
        F = engine.learning_features(X, cues)
        train = F[[position[i] for i in ids]]
        coder = LearnedCoder(codes, threshold=engine.threshold)
        report.cv_agreement = agreement(
            Y, cross_validated_predictions(coder, train, Y, known=K) >= engine.threshold, codes, known=K
        )
        report.training_segments = len(ids)
        report.warnings = [
            f"code '{c}' has {int(Y[:, j].sum())} human example(s); its learned scores are unreliable "
            f"below {MIN_EXAMPLES_PER_CODE} (code more segments with it, or keep the default coder)"
            for j, c in enumerate(codes)
            if Y[:, j].sum() < MIN_EXAMPLES_PER_CODE
        ]
        if engine.trained is not None:
            # The built-in codebook has a trained coder, which never saw this project's codes: score what it would
            # store on the same segments, and keep it unless the learned coder's cross-validated codes agree better.
            units = coding_units(segments)
            trained = _trained_unit_scores(store, engine, segments, units, X)
            stored = np.zeros((len(segments), len(codes)), dtype=bool)
            for index, assigned in unit_placements(segments, units, engine, *trained):
                stored[index, codes.index(assigned.code)] = True
            report.trained_agreement = agreement(Y, stored[[position[i] for i in ids]], codes, known=K)
            if macro_f1(report.trained_agreement) >= macro_f1(report.cv_agreement):
                report.warnings.append(
                    f"the trained coder agrees better with the human codes on these {len(ids)} segments (macro-F1 "
                    f"{macro_f1(report.trained_agreement):.3f}) than a coder learned from them "
                    f"({macro_f1(report.cv_agreement):.3f}, cross-validated): kept the trained coder's codes"
                )
                report.method = "trained"
                report.codings = store_unit_scores(store, segments, units, engine, *trained)
                if progress:
                    progress(len(segments), len(segments))
                return report
        engine = engine.with_learned(coder.fit(train, Y, K))
        scores = engine.learned.predict_proba(F)
        report.method = "learned"
    elif engine.trained is not None:
        report.method = "trained"
        report.codings = store_unit_codes(store, segments, engine, X)
        if progress:
            progress(len(segments), len(segments))
        return report
    else:
        scores = engine.zero_shot.predict_proba(X, cues)
    report.codings = store_machine_codes(store, segments, engine, scores, f"{report.method}:{engine.embedder.model_id}")
    if progress:
        progress(len(segments), len(segments))
    return report


def store_machine_codes(store, segments, engine: CodingEngine, scores: np.ndarray, method: str) -> int:
    """Replace these segments' machine codes by the ones their scores assign, atomically; returns how many."""
    now = utc_now()
    rows = []
    for segment, assigned in zip(segments, engine.assigned(scores)):
        rows += [
            (segment.id, c.code, c.score, "machine", MACHINE, method, segment.start, segment.end, now) for c in assigned
        ]
    return replace_machine_codes(store, segments, rows)


def replace_machine_codes(store, segments, rows: list[tuple]) -> int:
    """These segments' machine codes replaced by `rows` (CODING_COLUMNS tuples), in one transaction."""
    with store.transaction() as conn:
        conn.executemany("DELETE FROM codings WHERE source = 'machine' AND segment_id = ?", [(s.id,) for s in segments])
        insert_codings(conn, rows)
    return len(rows)


def coding_units(segments) -> list[list[int]]:
    """The guide's units as lists of positions in `segments`: a transcript turn, or a whole logbook entry."""
    units: dict[tuple, list[int]] = {}
    for i, s in enumerate(segments):
        units.setdefault((s.document_id, s.turn_id if s.kind != "logbook" else None), []).append(i)
    return list(units.values())


class InterviewQuestions:
    """The questions turns answer, read from a store's interviewer segments once (on first use) however many
    partitions of segments ask."""

    def __init__(self, store):
        self.store = store

    @cached_property
    def _by_document(self) -> dict[int, tuple[list[int], list]]:
        """Per transcript: its interviewer segments in order, and their first offsets (ascending)."""
        asked: dict[int, list] = {}
        for q in self.store.segments(role="interviewer"):
            asked.setdefault(q.document_id, []).append(q)
        return {document: ([q.start for q in rows], rows) for document, rows in asked.items()}

    def of(self, segments, units: list[list[int]]) -> list[list[str]]:
        """For each unit (positions in `segments`), the sentences of the interviewer's turn that came last
        before it in its transcript: the question it answers. Empty for a logbook entry, an interviewer's own
        turn and a turn no interviewer turn came before."""
        out = []
        for unit in units:
            first = segments[unit[0]]
            if first.kind == "logbook" or first.role == "interviewer":
                out.append([])
                continue
            starts, rows = self._by_document.get(first.document_id, ([], []))
            at = bisect_left(starts, first.start)
            turn = rows[at - 1].turn_id if at else None
            out.append([q.norm_text for q in rows[:at] if q.turn_id == turn] if at else [])
        return out

    def vectors(self, engine: CodingEngine, segments, units: list[list[int]], encode) -> np.ndarray | None:
        """Each unit's question as the mean vector of its sentences (zeros where none), for a trained coder
        that reads questions; None otherwise. `encode(texts)` gives passage vectors."""
        if engine.trained is None or not engine.trained.reads_question:
            return None
        questions = self.of(segments, units)
        flat = [s for q in questions for s in q]
        return unit_means(encode(flat), [len(q) for q in questions]) if flat else None


def unit_scores_of(engine: CodingEngine, texts: list[str], X: np.ndarray, units: list[list[int]],
                   questions: np.ndarray | None = None):
    """The trained coder's calibrated scores per unit, and per sentence (to pick each code's evidence), each
    read with its unit's question (`questions`: one vector per unit, or None)."""
    unit_scores = engine.trained.unit_scores(
        [[texts[i] for i in unit] for unit in units], np.concatenate([X[unit] for unit in units]) if units else X,
        questions,
    )
    per_sentence = None
    if questions is not None:
        per_sentence = np.zeros((len(texts), questions.shape[1]), np.float32)
        for unit, question in zip(units, questions):
            per_sentence[unit] = question
    return unit_scores, engine.trained.scores(texts, X, per_sentence)


def store_unit_scores(
    store, segments, units: list[list[int]], engine: CodingEngine, unit_scores: np.ndarray, sentence_scores: np.ndarray
) -> int:
    """Each unit's assigned codes, stored on the unit's sentence that carries the code best, with the unit's
    calibrated score; replaces these segments' machine codes atomically. Returns how many were stored."""
    now, method = utc_now(), f"trained:{engine.embedder.model_id}"
    rows = [
        (segments[i].id, c.code, c.score, "machine", MACHINE, method, segments[i].start, segments[i].end, now)
        for i, c in unit_placements(segments, units, engine, unit_scores, sentence_scores)
    ]
    return replace_machine_codes(store, segments, rows)


def unit_placements(segments, units: list[list[int]], engine: CodingEngine, unit_scores: np.ndarray,
                    sentence_scores: np.ndarray) -> list[tuple[int, object]]:
    """(segment index, assigned code) of each unit's codes, each on the unit's sentence that carries it best."""
    placed = []
    for unit, assigned in zip(units, engine.assigned(unit_scores)):
        for c in assigned:
            k = engine.codebook.ids.index(c.code)
            placed.append((unit[int(np.argmax(sentence_scores[unit, k]))], c))
    return placed


def _trained_unit_scores(store, engine: CodingEngine, segments, units, X: np.ndarray):
    questions = InterviewQuestions(store).vectors(engine, segments, units,
                                                  lambda texts: engine.embedder.encode(texts, kind="passage"))
    return unit_scores_of(engine, [s.norm_text for s in segments], X, units, questions)


def store_unit_codes(store, segments, engine: CodingEngine, X: np.ndarray) -> int:
    """Code each unit (turn or entry) as a whole, with the question it answers, by the trained coder and
    store the codes."""
    units = coding_units(segments)
    return store_unit_scores(store, segments, units, engine, *_trained_unit_scores(store, engine, segments, units, X))


def machine_code_counts(store) -> dict[str, dict[str, int]]:
    """Machine codes per code and kind of text ({code: {"interview": n, "logbook": n}})."""
    rows = store.query(
        "SELECT c.code AS code, d.kind AS kind, COUNT(*) AS n FROM codings c JOIN segments s ON s.id = c.segment_id "
        "JOIN documents d ON d.id = s.document_id WHERE c.source = 'machine' GROUP BY c.code, d.kind"
    )
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["code"], {"interview": 0, "logbook": 0})[r["kind"]] = r["n"]
    return counts


@dataclass(frozen=True)
class ReviewItem:
    segment_id: int
    case_id: str | None
    role: str
    code: str
    score: float
    uncertainty: float
    text: str


def review_queue(store, engine: CodingEngine, segments: list, limit: int = 20) -> list[ReviewItem]:
    """Of `segments` (the codable ones), those no human has looked at, the most uncertain first: a score
    nearest the threshold."""
    reviewed = {
        r[0]
        for r in store.query(
            "SELECT segment_id FROM reviews UNION SELECT segment_id FROM codings WHERE source = 'human' "
            "UNION SELECT segment_id FROM code_decisions"
        )
    }
    segments = [s for s in segments if s.id not in reviewed]
    if not segments:
        return []
    scores = engine.sentence_scores([s.norm_text for s in segments])
    distance = np.abs(scores - engine.thresholds)
    closest = distance.argmin(axis=1)
    items = [
        ReviewItem(
            s.id,
            s.case_id,
            s.role,
            engine.codebook.ids[j],
            round(float(scores[i, j]), 4),
            round(1.0 - 2 * float(distance[i, j]), 4),
            s.text,
        )
        for i, (s, j) in enumerate(zip(segments, closest))
    ]
    items.sort(key=lambda item: (-item.uncertainty, item.segment_id))
    return items[:limit]


def learned_training_segments(store) -> set[int]:
    """Segments a learned coder was trained on: those a human had coded or reviewed when the stored
    machine codes were made by `code --learn` (empty when the machine codes are not learned)."""
    made = store.query("SELECT MIN(created_at) AS t FROM codings WHERE source = 'machine' AND method LIKE 'learned:%'")
    if not made or made[0]["t"] is None:
        return set()
    cutoff = made[0]["t"]
    return {
        r[0]
        for r in store.query(
            "SELECT segment_id FROM codings WHERE source = 'human' AND created_at <= ? "
            "UNION SELECT segment_id FROM reviews WHERE reviewed_at <= ?",
            (cutoff, cutoff),
        )
    }


def coders_in_store(store, codable: list) -> dict[str, dict[int, set[str]]]:
    """Each coder's codes per segment they looked at: a human coder's coded or reviewed segments; the
    machine ('qualpipe') every `codable` segment once `code` has run, except a learned coder's training segments."""
    coders: dict[str, dict[int, set[str]]] = {}
    for row in store.query("SELECT segment_id, coder FROM reviews"):
        coders.setdefault(row["coder"], {}).setdefault(row["segment_id"], set())
    for row in store.query("SELECT segment_id, code, coder FROM codings WHERE source = 'human'"):
        coders.setdefault(row["coder"], {}).setdefault(row["segment_id"], set()).add(row["code"])
    machine = store.query("SELECT segment_id, code FROM codings WHERE source = 'machine'")
    if machine:
        training = learned_training_segments(store)
        coded = {s.id: set() for s in codable if s.id not in training}
        for row in machine:
            if row["segment_id"] in coded:
                coded[row["segment_id"]].add(row["code"])
        coders[MACHINE] = coded
    return coders


def evaluate_coders(store, codebook, codable: list, names: list[str] | None = None):
    """Pairwise agreement (precision, recall, F1, kappa per code) between the coders in the store (or the
    named ones) on the `codable` segments, and Krippendorff's alpha per code when there are more than two."""
    from qualpipe.coding.metrics import alpha, pairwise

    coders = coders_in_store(store, codable)
    if names:
        unknown = [n for n in names if n not in coders]
        if unknown:
            raise UserError(
                f"--coder {unknown[0]}: no codes by that coder in this project; "
                f"coders here: {', '.join(sorted(coders)) or 'none'}"
            )
        coders = {n: coders[n] for n in names}
    if len(coders) < 2:
        raise UserError(
            "agreement needs two coders; import an evaluator's codes ('qualpipe import') and run 'qualpipe code'"
        )
    codes = codebook.ids
    pairs = pairwise(coders, codes)
    if not pairs:
        training = learned_training_segments(store)
        hint = (
            (
                " (the machine codes were learned from the human codes; a learned coder is not scored on its own "
                "training segments: code new segments, or evaluate with --gold codes it did not learn from)"
            )
            if training
            else ""
        )
        raise UserError(f"the coders have no segment in common{hint}")
    return pairs, (alpha(coders, codes) if len(coders) > 2 else {})


def evaluate_against(store, codebook, gold: dict[int, set[str]]) -> list[CodeAgreement]:
    """Stored machine codes against human codes on the same segments (never a learned coder's training segments)."""
    codes = codebook.ids
    machine: dict[int, set[str]] = {}
    for row in store.query("SELECT segment_id, code FROM codings WHERE source = 'machine'"):
        machine.setdefault(row["segment_id"], set()).add(row["code"])
    ids = sorted(gold)
    unknown = [i for i in ids if not store.query("SELECT 1 FROM segments WHERE id = ?", (i,))]
    if unknown:
        raise UserError(
            f"--gold: segment id(s) {unknown[:5]} are not in this project; use ids from 'qualpipe segments'"
        )
    training = learned_training_segments(store)
    if training:
        ids = [i for i in ids if i not in training]
        if not ids:
            raise UserError(
                "--gold: every segment in it is one the learned coder was trained on; a coder is not scored "
                "on its own training segments (evaluate on segments coded after 'code --learn')"
            )
    Y = np.array([[c in gold[i] for c in codes] for i in ids], dtype=bool).reshape(len(ids), len(codes))
    P = np.array([[c in machine.get(i, set()) for c in codes] for i in ids], dtype=bool).reshape(len(ids), len(codes))
    return agreement(Y, P, codes)
