"""Embeddings cached in the store by (normalised text, kind, model id): a re-run embeds only new text."""

from __future__ import annotations

import hashlib
from typing import Callable, Sequence

import numpy as np

from qualpipe.embed.base import Embedder
from qualpipe.store import Store, utc_now


def text_key(text: str, kind: str) -> str:
    return hashlib.sha256(f"{kind}\x1f{text}".encode("utf-8")).hexdigest()


def cached_encode(
    store: Store,
    embedder: Embedder,
    texts: Sequence[str],
    *,
    kind: str = "passage",
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Rows for `texts` (in order) and how many were newly embedded; identical texts embed once."""
    keys = [text_key(t, kind) for t in texts]
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.conn.execute(
            f"SELECT text_hash, vector FROM embeddings WHERE model_id = ? AND text_hash IN ({marks})",
            (embedder.model_id, *chunk),
        ):
            found[row[0]] = np.frombuffer(row[1], dtype=np.float32)
    missing_keys = [k for k in unique if k not in found]
    if missing_keys:
        text_of = dict(zip(keys, texts))
        fresh = embedder.encode([text_of[k] for k in missing_keys], kind=kind, batch_size=batch_size, progress=progress)
        now = utc_now()
        with store.transaction():
            store.conn.executemany(
                "INSERT OR IGNORE INTO embeddings (text_hash, model_id, dim, vector, created_at) VALUES (?,?,?,?,?)",
                [(k, embedder.model_id, embedder.dim, v.astype(np.float32).tobytes(), now) for k, v in zip(missing_keys, fresh)],
            )
        found.update(zip(missing_keys, fresh))
    matrix = np.stack([found[k] for k in keys]) if keys else np.empty((0, embedder.dim), dtype=np.float32)
    return matrix.astype(np.float32), len(missing_keys)


class CachedEmbedder:
    """An Embedder that answers from the store's cache and embeds (and stores) only what is new."""

    def __init__(self, store: Store, embedder: Embedder, batch_size: int = 64):
        self.store = store
        self.inner = embedder
        self.model_id = embedder.model_id
        self.dim = embedder.dim
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        return cached_encode(self.store, self.inner, texts, kind=kind, batch_size=batch_size or self.batch_size,
                             progress=progress)[0]
