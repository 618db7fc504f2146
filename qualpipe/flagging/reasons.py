"""Why an entry was flagged, in Danish: the reason whose prototypes lie nearest the evidence sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from qualpipe.data import read_yaml


@dataclass
class Reasons:
    """The reason catalogue (qualpipe/data/reasons.da.yaml). `fit(embedder)` embeds the prototypes once;
    `reason(category, vector)` picks the nearest reason's wording. Prototypes choose words, never flags."""

    catalogue: dict
    prototypes_: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)

    def fit(self, embedder) -> "Reasons":
        texts, owners = [], []
        for category, spec in self.catalogue["categories"].items():
            for item in spec.get("reasons", []):
                for p in item["prototypes"]:
                    texts.append(p)
                    owners.append((category, item["reason"]))
        vectors = embedder.encode(texts) if texts else np.zeros((0, 1), np.float32)
        by_category: dict[str, tuple[list[str], list[np.ndarray]]] = {}
        for (category, reason), vector in zip(owners, vectors):
            names, rows = by_category.setdefault(category, ([], []))
            names.append(reason)
            rows.append(vector)
        self.prototypes_ = {c: (names, np.stack(rows)) for c, (names, rows) in by_category.items()}
        return self

    def default(self, category: str, band: str = "alert") -> str:
        spec = self.catalogue["categories"].get(category, {})
        return self._banded(spec.get("default", category), band)

    def reason(self, category: str, vector: np.ndarray | None, band: str = "alert") -> str:
        names_rows = self.prototypes_.get(category)
        if names_rows is None or vector is None or not len(vector):
            return self.default(category, band)
        names, rows = names_rows
        return self._banded(names[int(np.argmax(rows @ vector))], band)

    def watched(self, reason: str, within_days: int) -> str:
        """A check flag raised only because its case is under watch says so (the case rule `watch`)."""
        return f"{reason} ({self.catalogue['watch'].format(weeks=within_days // 7)})"

    def _banded(self, text: str, band: str) -> str:
        return f"{self.catalogue['check']}: {text[0].lower()}{text[1:]}" if band == "check" else text


@lru_cache(maxsize=1)
def _catalogue() -> dict:
    return read_yaml("reasons.da.yaml")


def load_reasons() -> Reasons:
    return Reasons(_catalogue())
