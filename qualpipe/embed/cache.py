"""Embeddings cached in the store by (normalised text, kind, model id): a re-run embeds only new text."""

from __future__ import annotations

import hashlib
from typing import Callable, Sequence

import numpy as np

from qualpipe.embed.base import Embedder
from qualpipe.store import Store, utc_now


def text_key(text: str, kind: str) -> str:
    return hashlib.sha256(f"{kind}\x1f{text}".encode("utf-8")).hexdigest()


def _cached_rows(store: Store, model_id: str, keys: Sequence[str], columns: str):
    """Rows of the embedding cache for one model among `keys` (text keys), in chunks SQLite accepts."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        yield from store.conn.execute(
            f"SELECT {columns} FROM embeddings WHERE model_id = ? AND text_hash IN ({marks})", (model_id, *chunk))


def known_vectors(store: Store, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached vectors among `keys` (text keys) for one model."""
    return {row[0]: np.frombuffer(row[1], dtype=np.float32)
            for row in _cached_rows(store, model_id, keys, "text_hash, vector")}


def store_vectors(store: Store, model_id: str, texts: Sequence[str], vectors: np.ndarray, kind: str = "passage") -> int:
    """Cache texts' vectors in one transaction; a text already cached is left as it is. Returns how many were new."""
    now = utc_now()
    with store.transaction() as conn:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO embeddings (text_hash, model_id, dim, vector, created_at) VALUES (?,?,?,?,?)",
            [(text_key(t, kind), model_id, int(v.shape[0]), v.astype(np.float32).tobytes(), now)
             for t, v in zip(texts, vectors)])
        return conn.total_changes - before


def cached_encode(
    store: Store,
    embedder: Embedder,
    texts: Sequence[str],
    *,
    kind: str = "passage",
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 2000,
) -> tuple[np.ndarray, int]:
    """Rows for `texts` (in order) and how many were newly embedded; identical texts embed once.

    New texts are embedded shortest first in chunks of `chunk`, each stored in its own transaction, so a
    run that is stopped keeps what it embedded (a text's vector does not depend on its batch mates)."""
    keys = [text_key(t, kind) for t in texts]
    found = known_vectors(store, embedder.model_id, keys)
    text_of = dict(zip(keys, texts))
    missing_keys = [k for k in dict.fromkeys(keys) if k not in found]
    missing_keys.sort(key=lambda k: len(text_of[k]))
    for start in range(0, len(missing_keys), chunk):
        chosen = missing_keys[start:start + chunk]
        texts_now = [text_of[k] for k in chosen]
        step = None if progress is None else (lambda done, _total, base=start: progress(base + done, len(missing_keys)))
        fresh = embedder.encode(texts_now, kind=kind, batch_size=batch_size, progress=step)
        store_vectors(store, embedder.model_id, texts_now, fresh, kind)
        found.update(zip(chosen, fresh))
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

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which text keys already have a vector for this model."""
        return {row[0] for row in _cached_rows(self.store, self.model_id, keys, "text_hash")}
