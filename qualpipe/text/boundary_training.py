"""Training the sentence boundary model (`boundaries.py`) from a labelled corpus's logbook entries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qualpipe.text.boundaries import BITS, BoundaryModel, boundary_features, hashed, stretch_words
from qualpipe.text.normalize import retype

# How a writer who skips full stops types a sentence: in lower case without punctuation; in lower case with
# commas; or with capitals and commas kept.
FORMS = ("plain", "commas", "capitals")


# `retype`'s settings for each form.
_FORM_SETTINGS = {
    "plain": {"lower": True, "keep": ""},
    "commas": {"lower": True, "keep": ","},
    "capitals": {"keep": ","},
}


def typed(text: str, form: str) -> tuple[str, list[int]]:
    """`text` as a writer in `form` types it, character by character (a hyphen, an abbreviation's full stop or a
    quote mark is left out where it stands, so "kl. 17" is "kl 17" and "fredags-moster" "fredagsmoster", as in
    text typed so), with where each offset of `text` went."""
    return retype(text, **_FORM_SETTINGS[form])


def stretches(texts: Sequence[str], nlp, form: str) -> list[tuple[list[str], list[int]]]:
    """Each entry as one stretch of words typed in `form` and tokenised as text typed so is at run time, with the
    indices of the words where its sentences (as the sentencizer splits the entry as written) start."""
    out = []
    # the sentences as the sentencizer splits the entry as written, without this model's own cuts
    with nlp.select_pipes(disable=[n for n in nlp.pipe_names if n == "qualpipe_unpunctuated"]):
        docs = list(nlp.pipe(texts, batch_size=256))
    for doc in docs:
        retyped, where = typed(doc.text, form)
        pending = sorted({where[s.start_char] for s in doc.sents if s.start_char > 0})  # in the retyped text
        words, starts = [], []
        for token in stretch_words(nlp.make_doc(retyped)):
            is_word = any(ch.isalnum() for ch in token.text)
            if is_word and pending and token.idx >= pending[0]:
                if words:
                    starts.append(len(words))
                pending = [a for a in pending if a > token.idx]
            words.append(token.text)
        if len(words) >= 2:
            out.append((words, starts))
    return out


def design(data: list[tuple[list[str], list[int]]]):
    from scipy.sparse import csr_matrix

    rows, cols, labels = [], [], []
    for words, starts in data:
        gold = set(starts)
        for i in range(1, len(words)):
            if words[i] == ",":
                continue
            columns = sorted(set(hashed(boundary_features(words, i))))
            rows.extend([len(labels)] * len(columns))
            cols.extend(columns)
            labels.append(int(i in gold))
    matrix = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(labels), 1 << BITS))
    return matrix, np.array(labels)


def boundary_scores(model: BoundaryModel, data, probas: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """Sentence starts found against the gold ones; `probas`: the stretches' probabilities, when already known."""
    tp = fp = fn = 0
    for k, (words, starts) in enumerate(data):
        found = set(model.starts(words) if probas is None else model.cuts(words, probas[k]))
        gold = set(starts)
        tp += len(found & gold)
        fp += len(found - gold)
        fn += len(gold - found)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


@dataclass
class BoundaryTraining:
    model: BoundaryModel
    dev: dict[str, dict[str, float]]  # per form, over every dev entry
    C: float


def train_boundary_model(
    train_texts: Sequence[str],
    dev_texts: Sequence[str],
    nlp,
    *,
    seed: int = 13,
    progress: Callable[[str], None] = lambda m: None,
) -> BoundaryTraining:
    """Fit on the train entries in every form; choose C and the threshold by boundary F1 on the dev entries
    typed plain (the form the sentencizer can do nothing with)."""
    from sklearn.linear_model import LogisticRegression

    train = [s for form in FORMS for s in stretches(train_texts, nlp, form)]
    dev = {form: stretches(dev_texts, nlp, form) for form in FORMS}
    x, y = design(train)
    progress(f"{x.shape[0]} word gaps from {len(train)} typed entries, {int(y.sum())} sentence starts")
    # the threshold is chosen on what it is applied to: dev entries typed without punctuation, long enough to read
    plain_dev = [s for s in dev["plain"] if len(s[0]) >= BoundaryModel.long_words]  # what the model is for
    best = None
    for C in (0.25, 1.0, 4.0):
        fitted = LogisticRegression(C=C, solver="liblinear", random_state=seed).fit(x, y)
        coef = fitted.coef_[0].astype(np.float16).astype(np.float32)  # as saved
        probas = [BoundaryModel(coef, float(fitted.intercept_[0])).probabilities(words) for words, _ in plain_dev]
        for threshold in np.round(np.arange(0.05, 0.91, 0.05), 2):
            model = BoundaryModel(coef, float(fitted.intercept_[0]), float(threshold))
            f1 = boundary_scores(model, plain_dev, probas)["f1"]
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, C, model)
        progress(f"C {C}: best dev boundary F1 so far {best[0]:.3f} (threshold {best[2].threshold})")
    _, C, model = best
    return BoundaryTraining(model, {form: boundary_scores(model, data) for form, data in dev.items()}, C)


def train_and_save_boundaries(
    corpus: Path | None, output: Path, *, seed: int = 13, progress: Callable[[str], None] = lambda m: None
) -> BoundaryTraining:
    """Train on the corpus's train writers, choose on its dev writers, save at `output`. The concern detector
    and the theme coder read sentences through this model, so retrain them after it changes."""
    from qualpipe.flagging.training import default_corpus, load_corpus
    from qualpipe.text.nlp import load_nlp

    entries = load_corpus(corpus or default_corpus())
    result = train_boundary_model(
        [e.text for e in entries if e.split == "train"],
        [e.text for e in entries if e.split == "dev"],
        load_nlp(""),
        seed=seed,
        progress=progress,
    )
    result.model.save(output)
    return result
