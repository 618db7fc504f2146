"""BERTopic's reduction and clustering parts as qualpipe runs them: each says when it starts, and UMAP is handed
exact neighbours where it would otherwise spend a minute compiling its approximate search."""

from __future__ import annotations

import warnings
from typing import Callable

Stage = Callable[[str], None]


def staged_umap(stage: Stage, **params):
    """A UMAP (umap-learn) that announces its stages and, on corpora where UMAP would build a pynndescent index,
    takes exact cosine neighbours computed with numpy instead (topics.neighbours).

    Only the fit needs the neighbours: qualpipe saves its models without UMAP (safetensors), and assigning new
    text compares it with the topics' embeddings, so no search index has to outlive the fit."""
    from umap import UMAP

    from qualpipe.topics.neighbours import exact_neighbours, use_exact_neighbours

    class StagedUMAP(UMAP):
        def fit(self, X, y=None, *args, **kwargs):
            if use_exact_neighbours(len(X)):
                stage(f"neighbours: exact {self.n_neighbors} nearest of each of {len(X)} segments")
                self.precomputed_knn = exact_neighbours(X, self.n_neighbors)
            stage(f"reducing {len(X)} vectors to {self.n_components} dimensions (UMAP)")
            with warnings.catch_warnings():
                # with precomputed neighbours UMAP keeps no index for transform(); qualpipe never calls it
                warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
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
