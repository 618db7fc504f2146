"""BERTopic's reduction and clustering parts as qualpipe runs them: each says when it starts, and UMAP is handed
exact neighbours where it would otherwise spend a minute compiling its approximate search."""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable

Stage = Callable[[str], None]
UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.sparse", "umap.distances", "umap.spectral")


def numba_cache_dir() -> Path:
    """Where compiled numba code is kept between processes: $NUMBA_CACHE_DIR if set, else a folder per umap,
    pynndescent and numba version in qualpipe's cache (numba notices a changed function, not a changed callee
    in another package, so an upgrade starts afresh)."""
    from importlib.metadata import version

    from qualpipe.private_files import cache_dir

    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    versions = "-".join(f"{name}{version(name)}" for name in ("umap-learn", "pynndescent", "numba"))
    return cache_dir() / "numba" / versions


@lru_cache(maxsize=1)
def cache_umap_compilation() -> Path:
    """Keep UMAP's compiled numba code on disk, so only the first fit on a machine compiles it (15-30 s).

    umap-learn marks almost none of its functions cache=True; this turns numba's own on-disk cache on for the
    ones still without it, before their first call. Compiled code only: no text goes there."""
    import importlib

    import numba
    from numba.core.dispatcher import Dispatcher

    folder = numba_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    numba.config.CACHE_DIR = str(folder)
    for name in UMAP_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, Dispatcher) and type(value._cache).__name__ == "NullCache":
                value.enable_caching()
    return folder


def staged_umap(stage: Stage, **params):
    """A UMAP (umap-learn) that announces its stages and, on corpora where UMAP would build a pynndescent index,
    takes exact cosine neighbours computed with numpy instead (topics.neighbours).

    Only the fit needs the neighbours: qualpipe saves its models without UMAP (safetensors), and assigning new
    text compares it with the topics' embeddings, so no search index has to outlive the fit."""
    from umap import UMAP

    from qualpipe.topics.neighbours import exact_neighbours, use_exact_neighbours

    cache_umap_compilation()

    class StagedUMAP(UMAP):
        def fit(self, X, y=None, *args, **kwargs):
            if use_exact_neighbours(len(X)):
                stage(f"neighbours: exact {self.n_neighbors} nearest of each of {len(X)} segments")
                self.precomputed_knn = exact_neighbours(X, self.n_neighbors)
            stage(f"reducing {len(X)} vectors to {self.n_components} dimensions (UMAP)")
            with warnings.catch_warnings():
                # with precomputed neighbours UMAP keeps no index for transform(); qualpipe never calls it
                warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
                warnings.filterwarnings("ignore", message="n_jobs value 1 overridden")  # seeded: one thread
                super().fit(X, y, *args, **kwargs)
            return self

    return StagedUMAP(**params)


def staged_hdbscan(stage: Stage, **params):
    """An HDBSCAN that announces clustering, and the topic words that BERTopic works out after it."""
    from hdbscan import HDBSCAN

    class StagedHDBSCAN(HDBSCAN):
        def fit(self, X, y=None, *args, **kwargs):
            stage(f"clustering {len(X)} points (HDBSCAN, smallest topic {self.min_cluster_size})")
            super().fit(X, y, *args, **kwargs)
            stage("topic words (c-TF-IDF, KeyBERT-inspired, MMR)")
            return self

    return StagedHDBSCAN(**params)
