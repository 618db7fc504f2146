"""The concern lexicon (qualpipe/data/concerns.da.yaml) compiled into a spaCy Matcher."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from spacy.language import Language
from spacy.matcher import Matcher

from qualpipe.errors import UserError

SEVERITIES = ("watch", "high", "urgent")
CATEGORIES = ("aflysning", "mistrivsel", "omsorgssvigt", "vold_overgreb", "selvskade", "konflikt", "frivillig_belastning")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    severity: str
    subject: str
    definition: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    categories: dict[str, Category]
    patterns: tuple[tuple[str, str | None, tuple], ...]  # (category, severity override, token pattern)
    ordinary: tuple[str, ...]

    def matcher(self, nlp: Language) -> tuple[Matcher, dict[str, tuple[str, str | None]]]:
        """A Matcher whose match ids map to (category, severity override)."""
        matcher = Matcher(nlp.vocab, validate=True)
        keys = {}
        for index, (category, severity, pattern) in enumerate(self.patterns):
            key = f"{category}#{index}"
            matcher.add(key, [list(pattern)])
            keys[key] = (category, severity)
        return matcher, keys


def load_lexicon(path: Path | None = None) -> Lexicon:
    if path is None:
        return _default_lexicon()
    return _parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path))


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    text = resources.files("qualpipe.data").joinpath("concerns.da.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text), "qualpipe/data/concerns.da.yaml")


def _parse(data: dict, source: str) -> Lexicon:
    categories, patterns = {}, []
    for cid, spec in (data.get("categories") or {}).items():
        severity = spec.get("severity", "watch")
        if severity not in SEVERITIES:
            raise UserError(f"{source}: category '{cid}' has severity {severity!r}; use one of {SEVERITIES}")
        categories[cid] = Category(cid, spec.get("label", cid), severity, spec.get("subject", "any"),
                                   spec.get("definition", ""), tuple(spec.get("examples", [])))
        for item in spec.get("patterns", []):
            override = item.get("severity")
            if override is not None and override not in SEVERITIES:
                raise UserError(f"{source}: a pattern of '{cid}' has severity {override!r}; use one of {SEVERITIES}")
            patterns.append((cid, override, tuple(item["pattern"])))
    if not categories:
        raise UserError(f"{source}: no categories; see qualpipe/data/concerns.da.yaml")
    return Lexicon(categories, tuple(patterns), tuple(data.get("ordinary", [])))
