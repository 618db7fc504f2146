"""Exact nearest neighbours of L2-normalised vectors, for UMAP to use instead of building its own index."""

from __future__ import annotations

from typing import Callable

import numpy as np

# From this many segments UMAP builds an approximate index (pynndescent), whose numba code takes about a minute
# to compile in every process; below it, UMAP computes exact distances itself.
APPROXIMATE_FROM = 4096
# Up to this many segments the exact search is quicker than that compiling (it grows with the square).
EXACT_UP_TO = 50_000
CHUNK_BYTES = 64 * 2**20


def use_exact_neighbours(n_segments: int) -> bool:
    """Whether a fit on `n_segments` should hand UMAP exact neighbours (see APPROXIMATE_FROM, EXACT_UP_TO)."""
    return APPROXIMATE_FROM <= n_segments <= EXACT_UP_TO


def exact_neighbours(X: np.ndarray, k: int, progress: Callable[[int, int], None] = lambda done, total: None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `k` nearest rows by cosine distance (itself first), as UMAP's `precomputed_knn` wants them:
    (indices, distances), both (n, k).

    The vectors are L2-normalised, so cosine similarity is a dot product; rows are taken in chunks so the
    similarity block stays near CHUNK_BYTES whatever the corpus size. The result depends on the vectors only
    (among equally near rows the lower index comes first), so the same corpus gives the same neighbours."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = len(X)
    k = min(k, n)
    step = max(1, CHUNK_BYTES // (4 * max(n, 1)))
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, step):
        rows = np.arange(start, min(start + step, n))
        similarity = X[rows] @ X.T
        similarity[np.arange(len(rows)), rows] = np.inf  # each row is its own nearest, even among duplicates
        nearest = np.argpartition(similarity, n - k, axis=1)[:, n - k:]  # the k largest, in no order
        order = np.lexsort((nearest, -np.take_along_axis(similarity, nearest, axis=1)), axis=1)
        nearest = np.take_along_axis(nearest, order, axis=1)
        indices[rows] = nearest
        distances[rows] = 1.0 - np.take_along_axis(similarity, nearest, axis=1)
        progress(int(rows[-1]) + 1, n)
    distances[:, 0] = 0.0
    np.clip(distances, 0.0, 2.0, out=distances)
    return indices, distances
