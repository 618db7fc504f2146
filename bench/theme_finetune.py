"""Fine-tuned top layers of e5 against the frozen encoder, for the theme coder: trained on the train
writers' units, compared on dev (the test split is not read).

Usage: .venv/bin/python bench/theme_finetune.py [--layers 4] [--epochs 3] [--keep PATH]

Both variants fit the same theme head (coding.training: n-grams and mean sentence vector, Platt per code,
thresholds on dev) and print dev macro-F1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from qualpipe.coding.codebook import load_codebook
from qualpipe.coding.training import (assigned, calibrated, choose_threshold, featurise_units, load_units, per_code,
                                      platt)
from qualpipe.embed.ort_backend import OrtE5Embedder
from qualpipe.engines import Engines
from qualpipe.flagging.finetune import finetune_top_layers, save_layers
from qualpipe.learning.head import LinearHead
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]


def dev_f1(name, train, dev, codes, C):
    head = LinearHead(tuple(codes), C=C, context="unit").fit_idf(train.texts)
    head.fit(head.features(train.texts, train.vectors, [1] * len(train.texts)), train.Y)
    raw = head.predict_proba(head.features(dev.texts, dev.vectors, [1] * len(dev.texts)))
    head.platt_ = {c: platt(raw[:, k], dev.Y[:, k]) for k, c in enumerate(codes)}
    scores = calibrated(head, raw)
    head.alert_ = {c: choose_threshold(scores[:, k], dev.Y[:, k].astype(bool)) for k, c in enumerate(codes)}
    result = per_code(dev.Y, assigned(head, scores), codes)
    print(f"{name:<8} C={C} dev macro-F1 {result['macro_f1']:.3f}",
          {c: v["f1"] for c, v in result["codes"].items()}, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/theme_layers.npz"))
    args = parser.parse_args()
    codes = load_codebook(None).ids
    nlp = load_nlp("")
    units = [u for u in load_units(ROOT / "corpora" / "dev", ROOT / "corpora" / "interviews_dev") if u.split != "test"]
    train_units = [u for u in units if u.split == "train"]
    dev_units = [u for u in units if u.split == "dev"]
    frozen = Engines().raw_embedder()
    train, dev = (
        featurise_units(nlp, frozen.encode, train_units, codes),
        featurise_units(nlp, frozen.encode, dev_units, codes),
    )
    for C in (0.5, 2.0):
        dev_f1("frozen", train, dev, codes, C)
    start = time.perf_counter()
    tensors = finetune_top_layers(
        [u.text for u in train_units], train.Y, layers=args.layers, epochs=args.epochs, progress=print
    )
    print(
        f"fine-tuned {args.layers} layers, {args.epochs} epochs, {len(train_units)} units: "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    save_layers(tensors, args.keep)
    tuned = OrtE5Embedder("int8", tuned=args.keep)
    t_train, t_dev = (
        featurise_units(nlp, tuned.encode, train_units, codes),
        featurise_units(nlp, tuned.encode, dev_units, codes),
    )
    for C in (0.5, 2.0, 8.0):
        dev_f1("tuned", t_train, t_dev, codes, C)
    # the unit itself (truncated to 128 tokens) as one passage, as it was fine-tuned
    whole = lambda us: np.asarray(tuned.encode([u.text for u in us]), np.float32)  # noqa: E731
    t_train.vectors, t_dev.vectors = whole(train_units), whole(dev_units)
    for C in (0.5, 2.0):
        dev_f1("tuned-w", t_train, t_dev, codes, C)


if __name__ == "__main__":
    main()
