"""The zero-shot coder's fitted state (prototype and background vectors) kept per model and codebook in a file."""

from __future__ import annotations

import dataclasses
import os
import stat

import numpy as np

from qualpipe.coding.codebook import load_codebook
from qualpipe.coding.zeroshot import ZeroShotCoder
from qualpipe.engines import Engines


def _state(coder: ZeroShotCoder):
    return np.concatenate(coder.prototypes_), coder.background_mean_, coder.background_std_


def test_a_fitted_state_is_read_back_for_the_same_codebook_and_fitted_anew_when_the_codebook_changes(tmp_path):
    embedder = Engines().raw_embedder()
    book = load_codebook(None)
    first = ZeroShotCoder(book, embedder, cache=tmp_path / "zs").fit()
    (saved,) = (tmp_path / "zs").iterdir()
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600

    # the same model and codebook read the file: a state altered in it comes back as written
    with np.load(saved) as state:
        arrays = dict(state)
    arrays["mean"] = arrays["mean"] + 1.0
    np.savez(saved, **arrays)
    again = ZeroShotCoder(book, embedder, cache=tmp_path / "zs").fit()
    assert np.array_equal(again.background_mean_, first.background_mean_ + 1.0)
    assert [len(p) for p in again.prototypes_] == [len(p) for p in first.prototypes_]
    assert all(np.array_equal(a, b) for a, b in zip(again.prototypes_, first.prototypes_))

    # a code's definition changed: another file, fitted from the texts (the uncached fit gives the same)
    code = book.codes[0]
    changed = dataclasses.replace(book, codes=(dataclasses.replace(code, definition="Barnet leger med sin hund."),
                                               *book.codes[1:]))
    refit = ZeroShotCoder(changed, embedder, cache=tmp_path / "zs").fit()
    assert len(list((tmp_path / "zs").iterdir())) == 2
    assert not np.array_equal(refit.prototypes_[0], first.prototypes_[0])
    for a, b in zip(_state(refit), _state(ZeroShotCoder(changed, embedder).fit())):
        assert np.array_equal(a, b)
