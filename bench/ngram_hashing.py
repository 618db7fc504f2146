"""The learned heads' n-gram hashing: qualpipe's NgramHasher against scikit-learn's HashingVectorizer on the
corpora's texts, taking turns, with the features compared bit for bit.

Usage: .venv/bin/python bench/ngram_hashing.py [--rounds 3]

Each round hashes every logbook entry and interview turn text of corpora/ (about 17,000 texts) with both, for
each kind of n-gram the heads use (folded text, as the shipped heads read it), with a fresh hasher each time
(so a round includes filling its memory of words). Prints seconds per round and the median ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from qualpipe.learning.head import HASH_FEATURES, NGRAMS, fold
from qualpipe.learning.ngrams import NgramHasher

ROOT = Path(__file__).resolve().parents[1]


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpora").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                texts.append(record["text"])
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = corpus_texts()
    print(f"{len(texts)} texts from corpora/")
    for kind, span in NGRAMS.items():
        seconds: dict[str, list[float]] = {"scikit-learn": [], "qualpipe": []}
        for _ in range(args.rounds):
            start = time.perf_counter()
            theirs = HashingVectorizer(analyzer=kind, ngram_range=span, n_features=HASH_FEATURES,
                                       alternate_sign=False, norm=None, preprocessor=fold).transform(texts)
            seconds["scikit-learn"].append(time.perf_counter() - start)
            start = time.perf_counter()
            ours = NgramHasher(kind, span, HASH_FEATURES, fold).transform(texts)
            seconds["qualpipe"].append(time.perf_counter() - start)
            same = (np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
                    and np.array_equal(ours.data, theirs.data))
            if not same:
                raise SystemExit(f"{kind}: the features differ from scikit-learn's")
        ratios = [a / b for a, b in zip(seconds["scikit-learn"], seconds["qualpipe"])]
        print(f"{kind:8s} scikit-learn {' '.join(f'{s:.2f}' for s in seconds['scikit-learn'])} s; qualpipe "
              f"{' '.join(f'{s:.2f}' for s in seconds['qualpipe'])} s; scikit-learn / qualpipe median "
              f"{statistics.median(ratios):.2f}x; features identical")


if __name__ == "__main__":
    main()
