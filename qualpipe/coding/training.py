"""Training the default theme coder on the labelled corpora, in the concern detector's engine.

A unit is what the labelling guide codes: one respondent turn of an interview, or one logbook entry.
Its features are those of `learning.head.LinearHead` in "unit+question" context: the unit's hashed word
and character n-grams, the mean e5 vector of its sentences (the same vectors `qualpipe code` stores for
the segments) and the mean vector of the interviewer's question the turn answers (zeros for a logbook
entry or a turn without one). The annotators coded each turn with its question in view, as the guide's
unit is read: "Ja, hver tirsdag" is `stabilitet` after "Hvor tit ses I?" and nothing on its own. Every
train turn is also shown once without its question, so an answer that comes alone (a transcript without
interviewer turns, `code --input` without a `question` field) is still read as well as before. One
logistic regression per code is fitted on the train split; on the writer-disjoint
dev split, each code's score is calibrated (Platt: a logistic fit of the raw score, so that 0.8 means
right about eight times in ten on dev) and its threshold chosen (best F1 with precision at least 0.5);
the regularisation is the one with the best dev macro-F1. The test split is scored once, at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qualpipe.errors import UserError
from qualpipe.learning.head import REGULARISATION, LinearHead, cached_embed, choose_C, cpu_kind, unit_means
from qualpipe.learning.head import corpus_digest as learning_digest

MIN_PRECISION = 0.5
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class LabelledUnit:
    unit_id: str
    source: str  # "interview" or "logbook"
    writer: str
    split: str
    text: str
    themes: tuple[str, ...]
    question: str = ""  # the interviewer's question this turn answers (interviews only)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_units(logbooks: Path | None, interviews: Path | None) -> list[LabelledUnit]:
    """Labelled units of the logbook corpus (corpora/dev) and the interview corpus (corpora/interviews_dev)."""
    units: list[LabelledUnit] = []
    if logbooks is not None:
        themes = {r["entry_id"]: r.get("themes", []) for r in _jsonl(logbooks / "labels.jsonl")}
        units += [
            LabelledUnit(r["entry_id"], "logbook", r["writer"], r["split"], r["text"], tuple(themes[r["entry_id"]]))
            for r in _jsonl(logbooks / "logbooks.jsonl")
            if r["entry_id"] in themes
        ]
    if interviews is not None:
        themes = {r["turn_id"]: r.get("themes", []) for r in _jsonl(interviews / "labels.jsonl")}
        turns = sorted(_jsonl(interviews / "turns.jsonl"), key=lambda r: (r["interview_id"], r["turn"]))
        for r, question in zip(turns, questions_answered([r["text"] for r in turns], [r["interview_id"] for r in turns],
                                                         [r["interviewer"] for r in turns])):
            if not r["interviewer"] and r["turn_id"] in themes:
                units.append(LabelledUnit(r["turn_id"], "interview", r["writer"], r["split"], r["text"],
                                          tuple(themes[r["turn_id"]]), question))
    return units


def questions_answered(texts: Sequence[str], documents: Sequence, asked: Sequence[bool]) -> list[str]:
    """For turns in order: the text of the last interviewer turn before each in the same document ("" for an
    interviewer's own turn and for a turn no question came before)."""
    out, last = [], {}
    for text, document, is_question in zip(texts, documents, asked):
        out.append("" if is_question else last.get(document, ""))
        if is_question:
            last[document] = text
    return out


def corpus_digest(units: Sequence[LabelledUnit]) -> str:
    return learning_digest([u.unit_id, u.split, u.text, list(u.themes), u.question] for u in units)


@dataclass
class Units:
    """Units with their vectors (the mean of their sentences', then their question's) and (for labelled
    units) their codes as a 0/1 matrix."""

    texts: list[str]
    vectors: np.ndarray
    Y: np.ndarray | None = None


def unit_sentences(nlp, texts: Sequence[str]) -> list[list[str]]:
    """Each text's sentences (spaCy's, whitespace-normalised); a text without any is one sentence."""
    return [
        [" ".join(s.text.split()) for s in doc.sents if s.text.strip()] or [" ".join(doc.text.split()) or "."]
        for doc in nlp.pipe(texts)
    ]


def unit_vectors(nlp, embed: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> np.ndarray:
    """The mean e5 vector of each text's sentences."""
    sentences = unit_sentences(nlp, texts)
    return unit_means(embed([s for unit in sentences for s in unit]), [len(unit) for unit in sentences])


def question_vectors(nlp, embed: Callable[[list[str]], np.ndarray], questions: Sequence[str], dim: int) -> np.ndarray:
    """The mean e5 vector of each question's sentences; zeros where there is no question."""
    out = np.zeros((len(questions), dim), np.float32)
    asked = [i for i, q in enumerate(questions) if q.strip()]
    if asked:
        out[asked] = unit_vectors(nlp, embed, [questions[i] for i in asked])
    return out


def featurise_units(nlp, embed, units: Sequence[LabelledUnit], codes: Sequence[str]) -> Units:
    texts = [u.text for u in units]
    Y = np.array([[c in u.themes for c in codes] for u in units], dtype=np.int8).reshape(len(units), len(codes))
    answers = unit_vectors(nlp, embed, texts)
    questions = question_vectors(nlp, embed, [u.question for u in units], answers.shape[1])
    return Units(texts, np.hstack([answers, questions]), Y)


def with_unasked_copies(data: Units) -> Units:
    """`data` plus each unit that has a question once more without it (its question vector zeroed)."""
    dim = data.vectors.shape[1] // 2
    asked = np.flatnonzero(np.abs(data.vectors[:, dim:]).sum(axis=1) > 0)
    unasked = data.vectors[asked].copy()
    unasked[:, dim:] = 0.0
    return Units(data.texts + [data.texts[i] for i in asked], np.vstack([data.vectors, unasked]),
                 np.vstack([data.Y, data.Y[asked]]))


def platt(raw: np.ndarray, gold: np.ndarray) -> list[float]:
    """[a, b] with calibrated = sigmoid(a * logit(raw) + b), fitted on dev."""
    from sklearn.linear_model import LogisticRegression

    if gold.min() == gold.max():
        return [1.0, 0.0]
    z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / np.clip(1 - raw, 1e-6, 1)).reshape(-1, 1)
    model = LogisticRegression(C=100.0, max_iter=1000).fit(z, gold)
    return [float(model.coef_[0, 0]), float(model.intercept_[0])]


def calibrated(head: LinearHead, raw: np.ndarray) -> np.ndarray:
    """Each code's raw head probability through its Platt scaling."""
    out = np.empty_like(raw)
    z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / np.clip(1 - raw, 1e-6, 1))
    for k, code in enumerate(head.categories):
        a, b = head.platt_.get(code, [1.0, 0.0])
        out[:, k] = 1.0 / (1.0 + np.exp(-np.clip(a * z[:, k] + b, -30, 30)))
    return out


def choose_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    """The threshold with the best F1 among those with precision >= MIN_PRECISION (else the best F1)."""
    best, best_any = (-1.0, 0.5), (-1.0, 0.5)
    for t in np.unique(np.round(scores, 4)):
        p = scores >= t
        tp = int((p & gold).sum())
        precision = tp / p.sum() if p.sum() else 0.0
        recall = tp / gold.sum() if gold.sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        best_any = max(best_any, (f1, float(t)))
        if precision >= MIN_PRECISION:
            best = max(best, (f1, float(t)))
    return (best if best[0] >= 0 else best_any)[1]


def scores_of(head: LinearHead, data: Units) -> np.ndarray:
    """Calibrated per-unit scores."""
    return calibrated(head, head.predict_proba(head.features(data.texts, data.vectors, [1] * len(data.texts))))


def per_code(gold: np.ndarray, predicted: np.ndarray, codes: Sequence[str]) -> dict:
    from qualpipe.coding.metrics import agreement, macro_f1

    rows = agreement(gold.astype(bool), predicted.astype(bool), list(codes))
    return {
        "codes": {
            r.code: {
                "precision": round(r.precision, 4),
                "recall": round(r.recall, 4),
                "f1": round(r.f1, 4),
                "kappa": round(r.kappa, 4),
                "support": r.support,
                "predicted": r.predicted,
            }
            for r in rows
        },
        "macro_f1": round(macro_f1(rows), 4),
    }


@dataclass
class ThemeTraining:
    head: LinearHead
    dev: dict
    test: dict  # per source ("interview", "logbook") and "all"


def assigned(head: LinearHead, scores: np.ndarray) -> np.ndarray:
    return np.stack([scores[:, k] >= head.alert_[c] for k, c in enumerate(head.categories)], axis=1)


def evaluate_by_source(head: LinearHead, data: Units, units: Sequence[LabelledUnit]) -> dict:
    predicted = assigned(head, scores_of(head, data))
    out = {"all": per_code(data.Y, predicted, head.categories)}
    for source in sorted({u.source for u in units}):
        rows = [i for i, u in enumerate(units) if u.source == source]
        out[source] = per_code(data.Y[rows], predicted[rows], head.categories)
    return out


def train_theme_model(
    units: Sequence[LabelledUnit],
    codes: Sequence[str],
    nlp,
    embedder,
    embedder_name: str,
    *,
    seed: int = 13,
    progress: Callable[[str], None] = lambda m: None,
) -> ThemeTraining:
    parts = {s: [u for u in units if u.split == s] for s in SPLITS}
    for split, rows in parts.items():
        if not rows:
            raise UserError(f"the corpus has no {split} units; every corpus needs train, dev and test writers")
    embed = cached_embed(embedder, "theme-train")
    progress(f"{len(units)} labelled units; embedding their sentences")
    data = {s: featurise_units(nlp, embed, rows, codes) for s, rows in parts.items()}
    train, dev = with_unasked_copies(data["train"]), data["dev"]
    candidates = []
    for C in REGULARISATION:
        progress(f"fitting the head on {len(data['train'].texts)} units "
                 f"({len(train.texts) - len(data['train'].texts)} also without their question), C={C}")
        head = LinearHead(tuple(codes), C=C, seed=seed, embedder=embedder_name, context="unit+question")
        head.fit_idf(data["train"].texts)
        head.fit(head.features(train.texts, train.vectors, [1] * len(train.texts)), train.Y)
        raw = head.predict_proba(head.features(dev.texts, dev.vectors, [1] * len(dev.texts)))
        head.platt_ = {c: platt(raw[:, k], dev.Y[:, k]) for k, c in enumerate(codes)}
        scores = calibrated(head, raw)
        head.alert_ = {c: choose_threshold(scores[:, k], dev.Y[:, k].astype(bool)) for k, c in enumerate(codes)}
        head.check_ = dict(head.alert_)
        candidates.append((head, per_code(dev.Y, assigned(head, scores), codes)))
    chosen = choose_C({h.C: (r["macro_f1"],) for h, r in candidates})
    head, dev_result = next(c for c in candidates if c[0].C == chosen)
    head.info = {
        "corpus": corpus_digest(units),
        "units": {s: len(r) for s, r in parts.items()},
        "dev_macro_f1_by_C": {str(h.C): r["macro_f1"] for h, r in candidates},
        "dev_macro_f1": dev_result["macro_f1"],
        "embedder_model_id": embedder.model_id,
        "cpu": cpu_kind(),
    }
    test = evaluate_by_source(head, data["test"], parts["test"])
    head.info["test_macro_f1"] = {k: v["macro_f1"] for k, v in test.items()}
    return ThemeTraining(head, dev_result, test)


def default_corpora() -> tuple[Path, Path]:
    """corpora/dev and corpora/interviews_dev of a source checkout (not part of the installed package)."""
    root = Path(__file__).resolve().parents[2] / "corpora"
    logbooks, interviews = root / "dev", root / "interviews_dev"
    if not (logbooks / "labels.jsonl").is_file() or not (interviews / "labels.jsonl").is_file():
        raise UserError(
            "no labelled corpora here; pass --logbooks and --interviews (corpora/ of a qualpipe source checkout)"
        )
    return logbooks, interviews


def train_and_save(
    logbooks: Path | None,
    interviews: Path | None,
    output: Path,
    *,
    seed: int = 13,
    progress: Callable[[str], None] = lambda m: None,
) -> ThemeTraining:
    """Train the default theme coder for the built-in codebook on the corpora and save it at `output`."""
    from qualpipe.coding.codebook import load_codebook
    from qualpipe.embed.registry import DEFAULT_MODEL
    from qualpipe.engines import Engines
    from qualpipe.text.nlp import load_nlp

    if logbooks is None and interviews is None:
        logbooks, interviews = default_corpora()
    units = load_units(logbooks, interviews)
    embedder = Engines().raw_embedder()
    result = train_theme_model(
        units, load_codebook(None).ids, load_nlp(""), embedder, DEFAULT_MODEL, seed=seed, progress=progress
    )
    result.head.save(output)
    return result
