"""The linear head every learned model of qualpipe uses: one logistic regression per output over a
text's hashed word and character n-grams (tf-idf) and its e5 vectors.

Three contexts: `"sentence"` (the concern detector) reads each sentence with the mean vector of its
neighbours and of its entry; `"unit"` reads a whole unit (an interview turn, a logbook entry) with the
mean of its sentences' vectors; `"unit+question"` (the theme coder) the same and then the mean vector of
the interviewer's question the unit answers (zeros where none). Hashing means no vocabulary is stored: the shipped
weights are what was trained. Training data, thresholds and calibration belong to each model's own
training module (flagging.training, coding.training); both call the same `fit`, `features` and
`cached_embed` here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from qualpipe.text.normalize import DANISH_LETTERS_SPELT_OUT

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


def unit_means(vectors: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """The mean vector of each unit's block of `vectors` (units in order, `sizes` sentences each); zeros
    for a unit without sentences."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 384
    out, at = np.zeros((len(sizes), dim), np.float32), 0
    for i, n in enumerate(sizes):
        if n:
            out[i] = vectors[at:at + n].mean(axis=0)
        at += n
    return out


HASH_FEATURES = 2 ** 18  # per kind of n-gram
NGRAMS = {"char_wb": (2, 5), "word": (1, 2)}  # the dev split chose these (bench/concern_experiments.py)
SCORE_BLOCK = 256  # sentences scored at once at run time (LinearHead.score)


_FOLD = str.maketrans({**DANISH_LETTERS_SPELT_OUT, "é": "e", "ä": "ae", "ö": "oe"})


def fold(text: str) -> str:
    """Lower case with æ/ø/å written as ae/oe/aa, as people write on keyboards without them: the n-grams of
    "bange for at gaa hjem" and "bange for at gå hjem" are then the same features."""
    return text.lower().translate(_FOLD)


@lru_cache(maxsize=2)
def _hashers(folded: bool = True):
    from qualpipe.learning.ngrams import NgramHasher

    # Character n-grams within words (robust to spelling, inflection) and word uni- and bigrams, hashed: no
    # vocabulary to store; counts, for tf-idf. Heads saved before folding existed (no "fold" in their JSON)
    # keep reading unfolded text. One pair per process, so each keeps its words' hashes between calls.
    return [NgramHasher(kind, span, HASH_FEATURES, fold if folded else None) for kind, span in NGRAMS.items()]


@dataclass
class LinearHead:
    """Logistic regression per output over a text's n-grams (hashed, tf-idf) and its e5 vectors in
    context, scikit-learn shaped. `context` "sentence": own vector, neighbours', entry's; "unit": the
    unit's mean sentence vector; "unit+question": that and its question's (the caller passes both, side by
    side).

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
    context: str = "sentence"
    platt_: dict[str, list[float]] = field(default_factory=dict)
    fold: bool = True  # n-grams of folded text (see `fold`)

    def features(self, sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int], ngrams=None):
        """The design matrix (sparse): tf-idf of the sentences' n-grams (`ngrams`, when they were built
        already by `ngram_features`), then their vectors in context."""
        from scipy.sparse import csr_matrix, hstack

        ngrams = self.ngram_features(sentences) if ngrams is None else ngrams
        dense = sentence_features(vectors, sizes) if self.context == "sentence" else np.asarray(vectors, np.float32)
        return hstack([ngrams, csr_matrix(dense)], format="csr", dtype=np.float32)

    def ngram_features(self, sentences: Sequence[str]):
        """The part of the design matrix read from the words alone: each kind of n-gram's sublinear tf-idf,
        L2-normalised per kind (sparse, one row per sentence). Rows are independent of each other."""
        from scipy.sparse import diags, hstack

        from qualpipe.learning.ngrams import l2_normalise_rows

        parts = []
        for index, hasher in enumerate(_hashers(self.fold)):
            counts = hasher.transform(sentences).astype(np.float32)
            counts.data = 1.0 + np.log(counts.data)  # sublinear tf
            idf = diags(self.idf_[index * HASH_FEATURES:(index + 1) * HASH_FEATURES])
            parts.append(l2_normalise_rows((counts @ idf).tocsr()))
        return hstack(parts, format="csr", dtype=np.float32)

    def text_features(self, sentences: Sequence[str], *, block: int = SCORE_BLOCK):
        """`ngram_features` of many sentences, built `block` at a time (the hashing's transient memory stays
        small), for `score(..., ngrams=)`: a caller can build them before the sentences' vectors exist."""
        from scipy.sparse import vstack

        sentences = list(sentences)
        blocks = [self.ngram_features(sentences[at:at + block]) for at in range(0, len(sentences), block)]
        return vstack(blocks or [self.ngram_features([])], format="csr", dtype=np.float32)

    def fit_idf(self, sentences: Sequence[str]) -> "LinearHead":
        idf = []
        for hasher in _hashers(self.fold):
            df = np.bincount(hasher.transform(sentences).indices, minlength=HASH_FEATURES)
            idf.append(np.log((1 + len(sentences)) / (1 + df)) + 1.0)
        self.idf_ = np.concatenate(idf).astype(np.float32)
        return self

    def fit(self, X, Y: np.ndarray, W: np.ndarray | None = None) -> "LinearHead":
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

    def score(self, sentences: Sequence[str], vectors: np.ndarray, sizes: Sequence[int], *,
              block: int = SCORE_BLOCK, ngrams=None) -> np.ndarray:
        """`predict_proba(features(sentences, vectors, sizes))`, built and scored `block` sentences (whole
        entries) at a time: every row is computed alone, so the result is the same, and the n-gram hashing's
        transient memory stays small (scoring a week's 1,229 sentences at once took about 150 MB). `ngrams`:
        the sentences' `text_features`, when they were built already."""
        sizes = list(sizes)
        if len(sentences) <= block:
            return self.predict_proba(self.features(sentences, vectors, sizes, ngrams))
        out, at, unit = None, 0, 0
        while unit < len(sizes):
            first, rows = unit, 0
            while unit < len(sizes) and (unit == first or rows + sizes[unit] <= block):
                rows += sizes[unit]
                unit += 1
            if rows:
                part = self.predict_proba(
                    self.features(sentences[at:at + rows], vectors[at:at + rows], sizes[first:unit],
                                  None if ngrams is None else ngrams[at:at + rows])
                )
                if out is None:
                    out = np.empty((len(sentences), part.shape[1]), part.dtype)
                out[at:at + rows] = part
            at += rows
        return out

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
                "alert": self.alert_, "check": self.check_, "info": self.info,
                "context": self.context, "platt": self.platt_, "fold": self.fold, **self._extra_meta()}
        path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                             encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "LinearHead":
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: model format {meta.get('format')}, expected {FORMAT_VERSION}")
        with np.load(path) as arrays:
            head = cls(tuple(meta["categories"]), meta["C"], meta["class_weight"], meta["seed"], meta["embedder"])
            head.coef_ = arrays["coef"].astype(np.float32)
            head.intercept_ = arrays["intercept"].astype(np.float32)
            head.idf_ = arrays["idf"].astype(np.float32)
        head.alert_, head.check_, head.info = meta["alert"], meta["check"], meta.get("info", {})
        head.context, head.platt_ = meta.get("context", "sentence"), meta.get("platt", {})
        head.fold = meta.get("fold", False)
        head._read_extra_meta(meta)
        return head

    def _extra_meta(self) -> dict:
        """What a subclass keeps in the JSON beside the common keys."""
        return {}

    def _read_extra_meta(self, meta: dict) -> None:
        """Read back what `_extra_meta` wrote (files saved before it existed lack it)."""


REGULARISATION = (0.5, 2.0, 8.0)  # logistic regression's C: the candidates each training reports on dev
DEFAULT_C = 2.0
C_MARGIN = 0.02  # what another C must win on dev by to replace DEFAULT_C


def choose_C(dev_figure: dict[float, tuple]) -> float:
    """The regularisation a training keeps: DEFAULT_C, unless another candidate's dev figure (a tuple compared
    in order; its last element a score such as micro F1) is better in an earlier element, or by at least
    C_MARGIN in the last. Vectors from another kind of CPU (AVX2 against AVX-512) move dev figures by about
    0.01, and a plain best-of choice flipped between C 2 and 8 on such noise (README, "Cross-CPU")."""
    best = max(dev_figure, key=lambda C: dev_figure[C])
    if DEFAULT_C not in dev_figure:
        return best
    default, top = dev_figure[DEFAULT_C], dev_figure[best]
    if top[:-1] == default[:-1] and top[-1] - default[-1] < C_MARGIN:
        return DEFAULT_C
    return best


def cpu_kind() -> str:
    """The kind of CPU whose vectors a model was trained on: ONNX Runtime's kernels, and with them the vectors'
    last digits, differ between "avx512" and "avx2" machines (README, "Embeddings")."""
    import platform

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    if features.get("AVX512F"):
        return "avx512"
    return "avx2" if features.get("AVX2") else platform.machine()


def cached_embed(embedder, name: str):
    """`embed(texts)` for training: vectors kept in the cache folder by model and text, so a grown corpus
    embeds only its new texts and a retrain embeds nothing. `name` keeps each model's cache apart."""
    from qualpipe.private_files import cache_dir

    path = cache_dir() / f"{name}-{hashlib.sha256(embedder.model_id.encode()).hexdigest()[:16]}.npz"

    def embed(texts: list[str]) -> np.ndarray:
        known: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path) as stored:
                known = dict(zip(stored["keys"].tolist(), stored["vectors"]))
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
        if missing:
            vectors = embedder.encode([t for _, t in missing])
            known.update(zip([k for k, _ in missing], vectors))
            partial = path.with_name(path.name + ".partial.npz")
            np.savez(partial, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
            partial.replace(path)
        return np.stack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)

    return embed


def corpus_digest(rows) -> str:
    """A short fingerprint of labelled training rows (lists of JSON values): which corpus a model came from."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]
