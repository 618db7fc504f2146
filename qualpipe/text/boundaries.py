"""Sentence boundaries in text typed without full stops: a learned boundary model for long stretches the
sentencizer leaves whole.

A volunteer who writes "vi var i svømmehallen han sprang fra vippen han var så stolt mor kom sent" gives
spaCy's sentencizer nothing to go by, so the whole entry became one "sentence": the concern detector then read
an entry's every sentence as one and, on the dev entries typed in lower case without punctuation, raised three
times the false urgent alerts it raised on them as written. The model here predicts, before each word of such
a stretch, whether a sentence starts there, from the words around it (a logistic regression over hashed
features of the words on either side, alone and in pairs and triples, and their endings). It is trained on the
corpus's train writers' entries, each sentence as the sentencizer splits it when written, retyped character by
character without punctuation and capitals (and, for some, with commas or capitals kept) and tokenised as such
text is at run time ("kl. 17" is read as "kl 17"), and chosen on the dev writers.

A clause splitter before "og", "men", "da" was tried first (spaCy component docstring in `nlp.py`) and cut
too fine; a trained spaCy `senter` would bring a CNN and a second vocabulary for one boundary decision.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

BITS = 18
MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "sentence_boundaries.npz"
SENTENCE_END = frozenset(".!?")


def boundary_features(words: Sequence[str], i: int) -> list[str]:
    """What the model sees before word `i` of a stretch: the words around the gap, alone, in pairs and in
    triples, the endings of the two words at the gap, whether the word after it is capitalised (writers who skip
    full stops often keep capitals) and whether a comma comes before it."""

    def word(j: int) -> str:
        return words[j].lower() if 0 <= j < len(words) else ("<s>" if j < 0 else "</s>")

    before2, before, after, after2 = word(i - 2), word(i - 1), word(i), word(i + 1)
    feats = [
        f"b={before}",
        f"a={after}",
        f"b2={before2}",
        f"a2={after2}",
        f"ba={before}|{after}",
        f"b2b={before2}|{before}",
        f"aa2={after}|{after2}",
        f"b2ba={before2}|{before}|{after}",
        f"baa2={before}|{after}|{after2}",
        f"b3={word(i - 3)}",
        f"a3={word(i + 2)}",
        f"bs={before[-3:]}",
        f"as={after[-3:]}",
        f"bs|a={before[-3:]}|{after}",
    ]
    current = words[i]
    if current[:1].isupper() and not current.isupper():
        feats.append("cap")
        feats.append(f"cap|a={after}")
    if i >= 1 and words[i - 1] == ",":
        feats.append("comma")
    return feats


def hashed(features: Iterable[str]) -> list[int]:
    mask = (1 << BITS) - 1
    return [zlib.crc32(f.encode("utf-8")) & mask for f in features]


@dataclass
class BoundaryModel:
    """Weights over hashed features and the threshold the dev writers chose; `min_words` and `long_words` are
    fixed, not chosen."""

    coef: np.ndarray
    intercept: float
    threshold: float = 0.5
    min_words: int = 3  # no sentence shorter than this is cut off
    long_words: int = 20  # only a stretch at least this long without a sentence end is read

    def probabilities(self, words: Sequence[str]) -> np.ndarray:
        """P(a sentence starts before word i) for every word of a stretch (0 for the first)."""
        out = np.zeros(len(words))
        for i in range(1, len(words)):
            out[i] = float(self.coef[hashed(boundary_features(words, i))].sum()) + self.intercept
        out[1:] = 1.0 / (1.0 + np.exp(-out[1:]))
        out[0] = 0.0
        return out

    def starts(self, words: Sequence[str]) -> list[int]:
        """Indices of the words that start a new sentence, greedy from left to right, never leaving a sentence
        shorter than `min_words` on either side of a cut."""
        return self.cuts(words, self.probabilities(words))

    def cuts(self, words: Sequence[str], proba: np.ndarray) -> list[int]:
        """`starts` from the stretch's probabilities, which do not depend on the threshold."""
        cuts, last = [], 0
        for i in range(self.min_words, len(words) - self.min_words + 1):
            if proba[i] >= self.threshold and i - last >= self.min_words and words[i] != ",":
                cuts.append(i)
                last = i
        return cuts

    def save(self, path: Path) -> None:
        meta = {"threshold": self.threshold, "min_words": self.min_words, "long_words": self.long_words,
                "intercept": self.intercept, "bits": BITS}
        np.savez_compressed(path, coef=self.coef.astype(np.float16), meta=json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> "BoundaryModel":
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            coef = data["coef"].astype(np.float32)
        return cls(coef, float(meta["intercept"]), float(meta["threshold"]), int(meta["min_words"]),
                   int(meta["long_words"]))


def stretch_words(tokens) -> list:
    """The tokens of a stretch that the model reads: the words and the commas."""
    return [t for t in tokens if not t.is_space and (not t.is_punct or t.text == ",")]


@lru_cache(maxsize=1)
def shipped_boundary_model() -> BoundaryModel | None:
    return BoundaryModel.load(MODEL_FILE) if MODEL_FILE.is_file() else None


def split_unpunctuated(doc, model: BoundaryModel | None = None):
    """In a text typed without a single full stop, question or exclamation mark, start sentences inside every
    stretch of `long_words` words or more where the boundary model finds them.

    A text with a sentence end anywhere comes from a writer who punctuates, and is left as the sentencizer
    splits it: on the dev writers' entries as written, cutting their long sentences too (one in four at the
    chosen threshold) did not help the concern detector and cut written sentences in two ("Vi har lavet en
    fast" / "plan: først saftevand ...")."""
    model = model or shipped_boundary_model()
    if model is None:
        return doc
    if any(t.is_punct and any(ch in SENTENCE_END for ch in t.text) for t in doc):  # ".", "!!", "?!", "..."
        return doc
    for sentence in list(doc.sents):
        words = stretch_words(sentence)
        if sum(t.text != "," for t in words) < model.long_words:
            continue
        for index in model.starts([t.text for t in words]):
            token = words[index]
            if token.i > sentence.start:
                token.is_sent_start = True
    return doc
