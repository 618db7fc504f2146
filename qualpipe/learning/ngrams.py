"""Hashed n-gram counts as scikit-learn's HashingVectorizer makes them, without importing scikit-learn.

Why not scikit-learn's own at run time: importing it pulls in scipy.stats and pandas, about 1.2 s of CPU
in every command that scores text with a learned head (the weekly run's goal is 10 s in all), for a
hasher and a row normalisation. Training still uses scikit-learn's logistic regression; the features it
learns from are these. They are HashingVectorizer's, bit for bit: the same analyzers ("char_wb" and
"word" n-grams, after lower-casing or a preprocessor) and the same feature index (32-bit MurmurHash3 of
the UTF-8 n-gram, seed 0, from the mmh3 package, its absolute value modulo the width).
`tests/learning/test_ngrams.py` compares the two on the dev corpus, so models trained before read the
same features.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import mmh3
import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # HashingVectorizer's default token_pattern
_MIN_INT32 = -(2 ** 31)
_WORD_MEMO = 20_000  # words whose n-gram hashes a hasher keeps (about 0.7 KB each); Danish text repeats its words


class NgramHasher:
    """Counts of hashed n-grams per text (`transform`, a float64 CSR matrix texts x `n_features`), as
    `HashingVectorizer(analyzer=analyzer, ngram_range=span, n_features=n_features, alternate_sign=False,
    norm=None, lowercase=True, preprocessor=preprocessor)` counts them."""

    def __init__(self, analyzer: str, span: tuple[int, int], n_features: int,
                 preprocessor: Callable[[str], str] | None = None):
        if analyzer not in ("char_wb", "word"):
            raise ValueError(f"analyzer must be 'char_wb' or 'word', not {analyzer!r}")
        self.analyzer = analyzer
        self.span = span
        self.n_features = n_features
        self.preprocessor = preprocessor
        self._words: dict[str, np.ndarray] = {}  # char_wb: a word's n-gram hashes, in order

    def ngrams(self, text: str) -> list[str]:
        """The text's n-grams, in HashingVectorizer's order (a preprocessor replaces lower-casing, as there)."""
        text = self._preprocess(text)
        if self.analyzer == "char_wb":
            return [gram for word in text.split() for gram in _char_wb_ngrams(word, *self.span)]
        return _word_ngrams(_TOKEN.findall(text), *self.span)

    def transform(self, texts: Sequence[str]):
        from scipy.sparse import csr_matrix

        parts, indptr = [], [0]
        for text in texts:
            hashes = self._hashes(text)
            parts.extend(hashes)
            indptr.append(indptr[-1] + sum(len(h) for h in hashes))
        index = self._index_of(np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64))
        counts = csr_matrix((np.ones(len(index)), index, np.asarray(indptr)),
                            shape=(len(indptr) - 1, self.n_features), dtype=np.float64)
        counts.sum_duplicates()
        return counts

    def _index_of(self, signed: np.ndarray) -> np.ndarray:
        """Feature indices of signed 32-bit hashes: abs(h) % width, with scikit-learn's special case for
        -2**31, whose absolute value is not an int32."""
        return np.where(signed == _MIN_INT32, (2 ** 31 - 1 - (self.n_features - 1)) % self.n_features,
                        np.abs(signed) % self.n_features).astype(np.int32)

    def _preprocess(self, text: str) -> str:
        return self.preprocessor(text) if self.preprocessor is not None else text.lower()

    def _hashes(self, text: str) -> list[np.ndarray]:
        """The text's n-gram hashes (MurmurHash3 of the UTF-8 n-gram, signed), as arrays in n-gram order."""
        if self.analyzer == "word":
            return [np.fromiter(map(mmh3.hash, self.ngrams(text)), np.int32)]
        known = []
        # split() on any run of white space, as the analyzer's squeezing then split()
        for word in self._preprocess(text).split():
            hashes = self._words.get(word)
            if hashes is None:
                if len(self._words) >= _WORD_MEMO:
                    self._words.clear()
                hashes = self._words[word] = np.fromiter(map(mmh3.hash, _char_wb_ngrams(word, *self.span)),
                                                         np.int32)
            known.append(hashes)
        return known


def _char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """One word's character n-grams of `low`..`high` characters, the word padded with a space on each side;
    from the n that covers the whole padded word on, that word counts once, whole."""
    padded = f" {word} "
    grams = []
    for n in range(low, high + 1):
        if n >= len(padded):
            grams.append(padded)
            break
        grams.extend([padded[at:at + n] for at in range(len(padded) - n + 1)])
    return grams


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Word n-grams of `low`..`high` tokens: all unigrams first (when `low` is 1), then bigrams, and so on."""
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[at:at + n]) for at in range(len(tokens) - n + 1))
    return grams


def l2_normalise_rows(matrix):
    """Each row of a float32 CSR matrix divided by its Euclidean length (rows of zeros stay zero), in place,
    as scikit-learn's `normalize` does it: squares in float32, summed in float64 in order, the quotient
    rounded back to float32. Returns the matrix."""
    rows = np.diff(matrix.indptr)
    squares = (matrix.data * matrix.data).astype(np.float64)
    lengths = np.sqrt(np.bincount(np.repeat(np.arange(len(rows)), rows), weights=squares, minlength=len(rows)))
    lengths[lengths == 0] = 1.0
    matrix.data = (matrix.data / np.repeat(lengths, rows)).astype(matrix.dtype)
    return matrix
