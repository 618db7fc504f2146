"""qualpipe's n-gram hasher gives scikit-learn's HashingVectorizer features bit for bit, so the shipped heads,
trained on those, read the same numbers without scikit-learn being imported at run time."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from qualpipe.learning.head import HASH_FEATURES, NGRAMS, fold
from qualpipe.learning.ngrams import NgramHasher, l2_normalise_rows

from conftest import CORPUS

ODD = ["", "a", "  x  y ", "ab", "æøå ÆØÅ é ä ö", "\t\n", "12 34 56", "Han slog   mig\ni skak!!", "x" * 40,
       "gik tur m. jonas :) 🙂 #fedt", "\u00a0nbsp\u2003em space", "ÉCOLE Straße İstanbul"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    lines = (CORPUS / "dev" / "logbooks.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[::4]] + ODD  # every fourth entry of every writer


@pytest.mark.parametrize("folded", [True, False])
@pytest.mark.parametrize("kind", sorted(NGRAMS))
def test_hashed_counts_equal_scikit_learns_hashing_vectorizer(texts, kind, folded):
    preprocessor = fold if folded else None
    theirs = HashingVectorizer(analyzer=kind, ngram_range=NGRAMS[kind], n_features=HASH_FEATURES,
                               alternate_sign=False, norm=None, lowercase=True, preprocessor=preprocessor)
    expected = theirs.transform(texts)
    hasher = NgramHasher(kind, NGRAMS[kind], HASH_FEATURES, preprocessor)
    for _ in range(2):  # the second pass reads the words' hashes it kept from the first
        got = hasher.transform(texts)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)
    assert hasher.ngrams("Hun GIK") == theirs.build_analyzer()("Hun GIK")


def test_the_one_hash_whose_absolute_value_overflows_lands_where_scikit_learn_puts_it():
    hasher = NgramHasher("word", (1, 1), 2 ** 18)
    assert hasher._index_of(np.array([-(2 ** 31), -5, 5], np.int64)).tolist() == [
        (2 ** 31 - 1 - (2 ** 18 - 1)) % 2 ** 18, 5, 5]


def test_row_normalisation_equals_scikit_learns_to_the_bit(texts):
    counts = NgramHasher("char_wb", NGRAMS["char_wb"], HASH_FEATURES, fold).transform(texts).astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    assert np.diff(counts.indptr).min() == 0  # empty texts: rows of zeros stay zero
    assert np.array_equal(l2_normalise_rows(counts.copy()).data, normalize(counts).data)


def test_a_hasher_whose_word_memory_fills_up_starts_afresh_and_counts_the_same(texts, monkeypatch):
    from qualpipe.learning import ngrams

    monkeypatch.setattr(ngrams, "_WORD_MEMO", 50)
    hasher = NgramHasher("char_wb", NGRAMS["char_wb"], HASH_FEATURES, fold)
    got = hasher.transform(texts[:300])
    assert len(hasher._words) <= 50
    expected = HashingVectorizer(analyzer="char_wb", ngram_range=NGRAMS["char_wb"], n_features=HASH_FEATURES,
                                 alternate_sign=False, norm=None, preprocessor=fold).transform(texts[:300])
    assert (got != expected).nnz == 0
