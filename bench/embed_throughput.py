"""Embedding throughput of each backend on the same texts, in one run.

Usage: .venv/bin/python bench/embed_throughput.py [--repeat 4]

Texts: the normalised segments of the sample corpus (519), repeated --repeat times with a counter
so that no two are identical (the store cache and de-duplication are not measured here). Each
backend embeds them in batches of 64 after one warm-up batch; the figure is segments per second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sample_corpus import sample_segments

from qualpipe.embed import load_embedder
from qualpipe.embed.registry import load_registry, resolve_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--models", nargs="+", default=["e5-small", "all-minilm-l6-v2"])
    args = parser.parse_args(argv)
    base = [s.norm_text for s in sample_segments()]
    texts = [f"{t} ({i})" for i in range(args.repeat) for t in base]
    tokens = np.mean([len(t.split()) for t in texts])
    print(f"{len(texts)} segments, mean {tokens:.1f} words")
    registry = load_registry([Path("models/registry.yaml")])
    rates = {}
    for name in args.models:
        embedder = load_embedder(resolve_model(name, registry))
        embedder.encode(texts[:64])
        start = time.perf_counter()
        embedder.encode(texts, batch_size=64)
        seconds = time.perf_counter() - start
        rates[name] = len(texts) / seconds
        print(f"{name:<20} {embedder.model_id:<55} {rates[name]:8.1f} segments/s ({seconds:.1f} s)")
    first = args.models[0]
    for name in args.models[1:]:
        print(f"ratio {name} / {first}: {rates[name] / rates[first]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
