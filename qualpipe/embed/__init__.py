"""Embeddings: the Embedder protocol, its backends, the model registry and the store cache."""

from __future__ import annotations

from qualpipe import preload
from qualpipe.embed.backends import BACKENDS
from qualpipe.embed.base import Embedder, normalise_rows
from qualpipe.embed.registry import ModelEntry
from qualpipe.errors import UserError

__all__ = ["Embedder", "normalise_rows", "load_embedder", "start_loading"]


def load_embedder(entry: ModelEntry, num_threads: int | None = None) -> Embedder:
    """Build the backend for a registry entry; loaded models are kept for the process."""
    return _embedders.get(entry, num_threads)


def start_loading(entry: ModelEntry, num_threads: int | None = None) -> None:
    """Start `load_embedder(entry, num_threads)` in the background; asking for it later waits for it."""
    _embedders.start(entry, num_threads)


def _load(entry: ModelEntry, num_threads: int | None) -> Embedder:
    if not entry.available():
        raise UserError(f"embedding model '{entry.name}': not available ({entry.location()}); see 'qualpipe models'")
    return BACKENDS[entry.backend].build(entry, num_threads)


_embedders = preload.Loader("embedder", _load)
