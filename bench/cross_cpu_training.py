"""Retraining on another kind of CPU, simulated: a shipped model's training command run on this machine's vectors
moved the way an AVX2 CPU moves an AVX-512 CPU's (README, "Retraining on the other kind of CPU").

Usage: .venv/bin/python bench/cross_cpu_training.py [--model concern|theme] [--noise 0.00144] [--draw 0]

Every training vector gets Gaussian noise of `--noise` per component (seeded by the text and `--draw`), then is
renormalised: 0.00144 gives a cosine of about 0.9996 to the original, the mean measured between the two kinds
of CPU (tests/embed/test_cross_cpu.py). The model is trained into a temporary folder and compared with the
shipped one as the reproduction tests compare them on the other kind of CPU: C, dev figures, thresholds,
weights, and for the concern detector the share of its flags on the dev and test entries that stay the same.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import numpy as np

import qualpipe.learning.head as head_module

ROOT = Path(__file__).resolve().parents[1]


def moved(noise: float, draw: int):
    """`cached_embed` with every vector moved by seeded noise and renormalised."""
    original = head_module.cached_embed

    def cached_embed(embedder, name):
        embed = original(embedder, name)

        def wrapped(texts):
            vectors = embed(texts).astype(np.float64)
            for i, text in enumerate(texts):
                seed = int.from_bytes(hashlib.sha256(f"{draw}:{text}".encode()).digest()[:8], "little")
                vectors[i] += np.random.default_rng(seed).normal(0, noise, vectors.shape[1])
                vectors[i] /= np.linalg.norm(vectors[i])
            return vectors.astype(np.float32)

        return wrapped

    return cached_embed


def concern(out: Path) -> None:
    from qualpipe.engines import Engines
    from qualpipe.flagging.flagger import ConcernFlagger
    from qualpipe.flagging.model import ConcernHead, shipped_model_path
    from qualpipe.flagging.training import load_corpus, train_and_save
    from qualpipe.text.nlp import load_nlp

    result = train_and_save(None, out / "concern_model.npz")
    head, shipped = result.head, ConcernHead.load(shipped_model_path())
    print(f"C {head.C} (shipped {shipped.C}); dev micro F1 by C {head.info['dev_f1_by_C']} "
          f"(shipped {shipped.info['dev_f1_by_C']})")
    print("alert thresholds moved:", {k: round(head.alert_[k] - shipped.alert_[k], 3) for k in head.categories})
    if head.C == shipped.C:
        print(f"largest weight difference {float(np.abs(head.coef_ - shipped.coef_).max()):.3f}")
    u = result.test["urgent"]
    print(f"test: micro F1 {result.test['micro']['f1']:.3f}; urgent {u['tp']}/{u['tp'] + u['fn']} as alerts, "
          f"{u['fp']} false urgent")
    entries = [e.text for e in load_corpus(ROOT / "corpora" / "dev") if e.split in ("dev", "test")]
    nlp, embedder = load_nlp(""), Engines().raw_embedder()
    a, b = ({(i, f.category, f.band) for i, entry in enumerate(ConcernFlagger(nlp, embedder, model=m)
                                                                 .flag_entries(entries)) for f in entry}
            for m in (head, shipped))
    print(f"flags (entry, category, band) on {len(entries)} dev and test entries: "
          f"{len(a & b) / len(a | b):.3f} the same")


def theme(out: Path) -> None:
    import qualpipe.coding.training as training
    from qualpipe.coding.trained import shipped_theme_model

    training.cached_embed = head_module.cached_embed  # imported by name there
    result = training.train_and_save(None, None, out / "theme_model.npz")
    fresh, shipped = result.head, shipped_theme_model()
    print(f"C {fresh.C} (shipped {shipped.C}); dev macro-F1 by C {fresh.info['dev_macro_f1_by_C']}")
    print("thresholds moved:", {k: round(fresh.alert_[k] - shipped.alert_[k], 3) for k in fresh.alert_})
    print(f"test macro-F1 {fresh.info['test_macro_f1']} (shipped {shipped.info['test_macro_f1']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("concern", "theme"), default="concern")
    parser.add_argument("--noise", type=float, default=0.00144)
    parser.add_argument("--draw", type=int, default=0)
    args = parser.parse_args()
    head_module.cached_embed = moved(args.noise, args.draw)
    with tempfile.TemporaryDirectory() as folder:
        (concern if args.model == "concern" else theme)(Path(folder))


if __name__ == "__main__":
    main()
