"""Any sentence-transformers model from a local directory (or a name already in the local cache)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qualpipe.embed.base import batched_encode, check_kind
from qualpipe.errors import UserError


def _fingerprint(path: Path) -> str:
    """A short hash of the model's config files: two different models in one folder name differ."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json"):
        candidate = path / name
        if candidate.is_file():
            digest.update(candidate.read_bytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """`prefixes="e5"` adds the "query: "/"passage: " prefixes e5-family model cards prescribe."""

    def __init__(self, name_or_path: str, *, prefixes: str | None = None, num_threads: int | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # progress is ours to show, on a terminal only

        if num_threads:
            import torch

            torch.set_num_threads(num_threads)
        path = Path(name_or_path).expanduser()
        try:
            self._model = SentenceTransformer(
                str(path) if path.exists() else name_or_path, device="cpu", local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise UserError(
                f"embedding model '{name_or_path}': not found locally ({type(exc).__name__}); "
                "place it under models/ (see models/README.md) — qualpipe never downloads models"
            ) from None
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self.prefixes = prefixes or ("e5" if "e5" in path.name.lower() else None)
        ident = _fingerprint(path) if path.exists() else name_or_path
        self.model_id = f"st:{path.name or name_or_path}:{ident}" + (":e5prefix" if self.prefixes else "")

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        check_kind(kind)
        prefix = f"{kind}: " if self.prefixes == "e5" else ""

        def encode_batch(chunk: list[str]) -> np.ndarray:
            return self._model.encode(
                [prefix + t for t in chunk],
                batch_size=len(chunk),
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )

        return batched_encode(texts, encode_batch, self.dim, batch_size, progress)
