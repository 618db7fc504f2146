"""Does a non-linear head over the frozen vectors add to the shipped concern scores? Dev halves only.

Usage: .venv/bin/python bench/concern_nonlinear.py [--hidden 256] [--epochs 12] [--seeds 3]

The shipped detector is linear: one logistic regression per category over each sentence's n-grams and its
e5 vectors in context. Telling low mood from self-harm, or a beating from a bruise, may need interactions a
linear model over mean-pooled vectors cannot draw. Here a small multi-layer perceptron (one hidden layer,
dropout, class-weighted binary cross-entropy) reads the same vectors in context (`sentence_features`: the
sentence, its neighbours and its entry) on the train split's sentences; its sentence scores, an entry's score
its best sentence's, are blended with the shipped detector's by a weight and judged on the dev halves
(`concern_dev_checks.halves_f1`). Scores only: no lexicon, no ConText. The test split is not read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from concern_dev_checks import LEXICON, halves_f1

from qualpipe.engines import Engines
from qualpipe.flagging.model import ConcernHead, shipped_model_path
from qualpipe.flagging.training import (_subset, cached_features, entry_scores, gold_matrix, head_outputs,
                                        load_corpus, sentence_proba)
from qualpipe.learning.head import sentence_features
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]


def train_mlp(X: np.ndarray, Y: np.ndarray, hidden: int, epochs: int, seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(hidden, Y.shape[1]))
    positives = Y.sum(axis=0)
    pos_weight = torch.tensor(np.clip((len(Y) - positives) / np.maximum(positives, 1), 1.0, 30.0), dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    x, y = torch.from_numpy(X), torch.from_numpy(Y.astype(np.float32))
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        model.train()
        for batch in np.array_split(rng.permutation(len(X)), max(len(X) // 256, 1)):
            loss = loss_fn(model(x[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()

    def score(Z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.sigmoid(model(torch.from_numpy(Z))).numpy()

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--halvings", type=int, default=10)
    args = parser.parse_args()
    nlp = load_nlp("")
    categories = list(LEXICON.category_ids)
    entries = [e for e in load_corpus(args.corpus) if e.split in ("train", "dev")]
    outputs = head_outputs(categories)
    data = cached_features(nlp, Engines().raw_embedder(), entries, outputs)
    pick = lambda split: [i for i, e in enumerate(entries) if e.split == split]  # noqa: E731
    train, dev = _subset(data, pick("train")), _subset(data, pick("dev"))
    n = len(categories)
    shipped = entry_scores(sentence_proba(ConcernHead.load(shipped_model_path()), dev), dev)[:, :n]
    X_train, X_dev = sentence_features(train.vectors, train.sizes), sentence_features(dev.vectors, dev.sizes)
    start = time.perf_counter()
    mlp = np.mean([entry_scores(train_mlp(X_train, train.Y, args.hidden, args.epochs, seed)(X_dev), dev)[:, :n]
                   for seed in range(args.seeds)], axis=0)
    print(f"{args.seeds} perceptrons, hidden {args.hidden}, {args.epochs} epochs, {len(X_train)} sentences: "
          f"{time.perf_counter() - start:.0f} s")
    G, cases = gold_matrix(dev.entries, categories), [e.case_id for e in dev.entries]
    print(f"dev halves ({len(dev.entries)} entries, {len(set(cases))} cases, {args.halvings} halvings):")
    for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
        f1, recall, false = halves_f1((1 - weight) * shipped + weight * mlp, G, cases, args.halvings)
        print(f"  perceptron's weight {weight:<5} micro F1 {f1:.3f}  urgent alerts recall {recall:.3f}  "
              f"false urgent per half {false:.1f}")


if __name__ == "__main__":
    main()
