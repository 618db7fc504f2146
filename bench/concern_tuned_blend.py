"""Does a fine-tuned encoder's own sentence head add to the shipped concern scores? Dev halves only.

Usage: .venv/bin/python bench/concern_tuned_blend.py [--layers 4] [--epochs 2] [--keep PATH] [--reuse]

e5's top layers and a linear sentence head are fine-tuned on the train split's sentences (`finetune_top_layers`,
seeded); the tuned encoder then runs in the same integer engine as the default one, and its head scores every
dev sentence. An entry's score is its best sentence's, as the flagger takes it. The shipped detector's scores
(sentence and whole-entry heads over the frozen vectors and n-grams) are blended with the tuned head's by a
weight, and each blend is judged on dev halves (`concern_dev_checks.halves_f1`: thresholds chosen on one half of
the dev cases, scored on the other). Scores only: no lexicon, no ConText. The test split is not read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from concern_dev_checks import LEXICON, halves_f1

from qualpipe.embed.ort_backend import OrtE5Embedder
from qualpipe.engines import Engines
from qualpipe.flagging.finetune import finetune_top_layers, load_layers, save_layers
from qualpipe.flagging.model import ConcernHead, shipped_model_path
from qualpipe.flagging.training import (_subset, cached_features, entry_scores, gold_matrix, head_outputs,
                                        load_corpus, sentence_proba)
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--halvings", type=int, default=10)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/concern_tuned.npz"))
    parser.add_argument("--reuse", action="store_true", help="score the layers kept at --keep, do not train")
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
    if not (args.reuse and args.keep.is_file()):
        start = time.perf_counter()
        tensors = finetune_top_layers(train.texts, train.Y, layers=args.layers, epochs=args.epochs, progress=print)
        print(f"fine-tuned {args.layers} layers, {args.epochs} epochs, {len(train.texts)} sentences: "
              f"{time.perf_counter() - start:.0f} s")
        save_layers(tensors, args.keep)
    stored = load_layers(args.keep)
    vectors = OrtE5Embedder("int8", tuned=args.keep).encode(dev.texts)
    logits = (vectors * 20.0) @ stored["head.w"].T + stored["head.b"]
    tuned = entry_scores(1.0 / (1.0 + np.exp(-logits)), dev)[:, :n]
    G, cases = gold_matrix(dev.entries, categories), [e.case_id for e in dev.entries]
    print(f"dev halves ({len(dev.entries)} entries, {len(set(cases))} cases, {args.halvings} halvings):")
    for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
        f1, recall, false = halves_f1((1 - weight) * shipped + weight * tuned, G, cases, args.halvings)
        print(f"  tuned head's weight {weight:<5} micro F1 {f1:.3f}  urgent alerts recall {recall:.3f}  "
              f"false urgent per half {false:.1f}")


if __name__ == "__main__":
    main()
