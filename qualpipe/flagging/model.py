"""The learned concern detector: a multi-label head over each sentence's words and its e5 vectors in context.

Each sentence of an entry is represented by its character n-grams (hashed, tf-idf), its own e5 vector,
the mean of its neighbours' vectors (the sentence before and after) and the entry's mean vector, so a
disclosure told over two sentences or a harmless word in a worrying entry is read with what surrounds
it. One logistic regression per
category scores each sentence; an entry's score for a category is its best sentence's, and that
sentence is the evidence. Thresholds per category were chosen on the writer-disjoint dev split
(`qualpipe flag train`), with a lower "check" threshold for the urgent categories: entries between
the two are shown to the coordinator in their own section, never dropped.

Why this and not fine-tuned top layers of e5: the dev split decided (README, "Concerns"): the words
carried most of what separates a disclosure from its innocent look-alikes, fine-tuning gained little
over the frozen vectors, and this costs nothing at run time beyond the embedding the flagger does anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

FORMAT_VERSION = 2


def sentence_features(vectors: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Per sentence: [own vector, mean of the sentences before and after, the entry's mean vector].

    `vectors` holds every entry's sentences in order; `sizes` says how many belong to each entry."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    out = np.zeros((len(vectors), 3 * dim), dtype=np.float32)
    at = 0
    for n in sizes:
        block = vectors[at:at + n]
        if n:
            mean = block.mean(axis=0)
            for i in range(n):
                neighbours = block[max(i - 1, 0):i].tolist() + block[i + 1:i + 2].tolist()
                out[at + i, :dim] = block[i]
                out[at + i, dim:2 * dim] = np.mean(neighbours, axis=0) if neighbours else block[i]
                out[at + i, 2 * dim:] = mean
        at += n
    return out


HASH_FEATURES = 2 ** 18  # per kind of n-gram
NGRAMS = {"char_wb": (2, 5), "word": (1, 2)}  # the dev split chose these (bench/concern_experiments.py)


def _hashers():
    from sklearn.feature_extraction.text import HashingVectorizer

    # Character n-grams within words (robust to spelling, missing æ/ø/å, inflection) and word uni- and
    # bigrams, hashed: no vocabulary to store. alternate_sign off, so the counts stay counts for tf-idf.
    return [HashingVectorizer(analyzer=kind, ngram_range=span, n_features=HASH_FEATURES, alternate_sign=False,
                              norm=None, lowercase=True) for kind, span in NGRAMS.items()]


@dataclass
class ConcernHead:
    """Logistic regression per output over each sentence's character n-grams (hashed, tf-idf) and its
    e5 vectors in context (own, neighbours, entry), scikit-learn shaped.

    Learned state: `idf_` (the n-grams' inverse document frequencies over the training sentences),
    `coef_` (outputs x features), `intercept_`, and after calibration `alert_` (per-output alert
    threshold) and `check_` (check-band threshold; equal to the alert threshold where there is no band)."""

    categories: tuple[str, ...]
    C: float = 1.0
    class_weight: str | None = "balanced"
    seed: int = 0
    embedder: str = ""
    idf_: np.ndarray | None = None
    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None
    alert_: dict[str, float] = field(default_factory=dict)
    check_: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def features(self, sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int]):
        """The design matrix (sparse): tf-idf of the sentences' n-grams, then their vectors in context."""
        from scipy.sparse import csr_matrix, diags, hstack
        from sklearn.preprocessing import normalize

        parts = []
        for index, hasher in enumerate(_hashers()):
            counts = hasher.transform(sentences).astype(np.float32)
            counts.data = 1.0 + np.log(counts.data)  # sublinear tf
            parts.append(normalize(counts @ diags(self.idf_[index * HASH_FEATURES:(index + 1) * HASH_FEATURES])))
        parts.append(csr_matrix(sentence_features(vectors, sizes)))
        return hstack(parts, format="csr", dtype=np.float32)

    def fit_idf(self, sentences: Sequence[str]) -> "ConcernHead":
        idf = []
        for hasher in _hashers():
            df = np.bincount(hasher.transform(sentences).indices, minlength=HASH_FEATURES)
            idf.append(np.log((1 + len(sentences)) / (1 + df)) + 1.0)
        self.idf_ = np.concatenate(idf).astype(np.float32)
        return self

    def fit(self, X, Y: np.ndarray, W: np.ndarray | None = None) -> "ConcernHead":
        """`X` from `features` (after `fit_idf`); `W` (optional, sentences x outputs): each label's weight,
        0 where a label is unknown (a coordinator's decision about one category says nothing about the others)."""
        from sklearn.linear_model import LogisticRegression

        coefs, intercepts = [], []
        for k, _ in enumerate(self.categories):
            keep = np.arange(X.shape[0]) if W is None else np.flatnonzero(W[:, k] > 0)
            y = Y[keep, k]
            if len(y) == 0 or y.min() == y.max():  # an output with no example: never fires
                coefs.append(np.zeros(X.shape[1], np.float32))
                intercepts.append(-20.0)
                continue
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000, random_state=self.seed)
            model.fit(X[keep], y, sample_weight=None if W is None else W[keep, k])
            coefs.append(model.coef_[0].astype(np.float32))
            intercepts.append(float(model.intercept_[0]))
        self.coef_ = np.stack(coefs)
        self.intercept_ = np.asarray(intercepts, dtype=np.float32)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Per sentence and output, the probability that the sentence shows it."""
        z = np.asarray(X @ self.coef_.T) + self.intercept_
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def save(self, path: Path) -> None:
        """Weights as .npz (float16, compressed: what was trained, no vocabulary) and the rest as JSON beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, coef=self.coef_.astype(np.float16), intercept=self.intercept_,
                            idf=self.idf_.astype(np.float16))
        meta = {"format": FORMAT_VERSION, "categories": list(self.categories), "C": self.C,
                "class_weight": self.class_weight, "seed": self.seed, "embedder": self.embedder,
                "hash_features": HASH_FEATURES, "ngrams": {k: list(v) for k, v in NGRAMS.items()},
                "alert": self.alert_, "check": self.check_, "info": self.info}
        path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "ConcernHead":
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: concern model format {meta.get('format')}, expected {FORMAT_VERSION}")
        with np.load(path) as arrays:
            head = cls(tuple(meta["categories"]), meta["C"], meta["class_weight"], meta["seed"], meta["embedder"])
            head.coef_ = arrays["coef"].astype(np.float32)
            head.intercept_ = arrays["intercept"].astype(np.float32)
            head.idf_ = arrays["idf"].astype(np.float32)
        head.alert_, head.check_, head.info = meta["alert"], meta["check"], meta.get("info", {})
        return head


def shipped_model_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("qualpipe.data").joinpath("concern_model.npz")))


def load_concern_model(path: Path | None = None) -> ConcernHead:
    """A trained concern model: `path`, or the one shipped with qualpipe (read once per process)."""
    if path is None:
        return _shipped()
    try:
        return ConcernHead.load(path)
    except (OSError, ValueError, KeyError) as exc:
        from qualpipe.errors import UserError

        raise UserError(f"{path}: not a usable concern model ({exc}); retrain it with 'qualpipe flag train'") from None


@lru_cache(maxsize=1)
def _shipped() -> ConcernHead:
    return ConcernHead.load(shipped_model_path())


def default_flagger(pipeline: str = ""):
    """The default flagger outside a project (batch mode, the bench, Dask workers): the shipped model
    and its embedder from the built-in registry."""
    from qualpipe.embed import load_embedder
    from qualpipe.embed.registry import load_registry, resolve_model
    from qualpipe.flagging.flagger import ConcernFlagger
    from qualpipe.text.nlp import load_nlp

    head = _shipped()
    return ConcernFlagger(load_nlp(pipeline), load_embedder(resolve_model(head.embedder, load_registry([]))), model=head)
