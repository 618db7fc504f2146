"""The Embedder protocol every backend follows, and helpers shared by the backends."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

KINDS = ("passage", "query")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows. `model_id` names the weights and recipe exactly."""

    model_id: str
    dim: int

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray: ...


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


def batched_encode(
    texts: Sequence[str],
    encode_batch: Callable[[list[str]], np.ndarray],
    dim: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """Encode in batches, reporting progress(done, total) after each batch."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start:start + batch_size])
        out[start:start + len(chunk)] = encode_batch(chunk)
        if progress:
            progress(start + len(chunk), len(texts))
    return normalise_rows(out)
