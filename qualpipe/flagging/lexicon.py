"""The concern lexicon (qualpipe/data/concerns.da.yaml): categories, severities, case rules and spaCy patterns.

The data file is the only source of these domain facts; code asks the loaded Lexicon for them
(`load_lexicon().category_ids`, `.severities`, `.urgent_categories`, `.graded_categories`,
`.cancellation_category`, `.case_rules`) and never writes a category id or a severity list itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qualpipe.data import parse_yaml, read_yaml
from qualpipe.errors import UserError

if TYPE_CHECKING:  # spaCy loads only when a matcher is built: the CLI and reports read the facts without it
    from spacy.language import Language
    from spacy.matcher import Matcher

PACKAGED = "concerns.da.yaml"


def severity_rank(severity: str) -> int:
    """The severity's place in the packaged lexicon's order (0 is the lowest)."""
    return _default_lexicon().severity_rank(severity)


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    severity: str
    subject: str
    definition: str
    examples: tuple[str, ...]
    urgent: bool = False  # always urgent; the bar for it is lower everywhere, as missing one costs most
    graded: bool = False  # the learned head has an output saying when it is 'high'
    separate_from: tuple[str, ...] = ()  # kept beside these only when another sentence shows it (guide rule 8)


@dataclass(frozen=True)
class CancellationRule:
    """`count` flags of `category` in a case within `within_days` (this entry's included) raise it to `severity`."""

    category: str
    within_days: int
    count: int
    severity: str


@dataclass(frozen=True)
class WorseningRule:
    """`count` of a case's last `last_entries` entries flagged with `category` raise it to `severity`."""

    category: str
    last_entries: int
    count: int
    severity: str


@dataclass(frozen=True)
class WatchRule:
    """After an urgent alert that is not dismissed, a case's entries within `within_days` are read more closely:
    the urgent categories' check thresholds are multiplied by `check_scale`."""

    within_days: int = 56
    check_scale: float = 0.25


@dataclass(frozen=True)
class CaseRules:
    cancellations: CancellationRule
    worsening: WorseningRule
    watch: WatchRule = WatchRule()


@dataclass(frozen=True)
class Lexicon:
    categories: dict[str, Category]
    patterns: tuple[tuple[str, str | None, tuple], ...]  # (category, severity override, token pattern)
    ordinary: tuple[str, ...]
    severities: tuple[str, ...]  # lowest first
    case_rules: CaseRules

    @property
    def category_ids(self) -> tuple[str, ...]:
        """The categories in the data file's order (the order of every table and model output)."""
        return tuple(self.categories)

    @property
    def labels(self) -> dict[str, str]:
        """Each category's Danish label, by id: what a coordinator reads."""
        return {c.id: c.label for c in self.categories.values()}

    @property
    def urgent_categories(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories.values() if c.urgent)

    @property
    def graded_categories(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories.values() if c.graded)

    @property
    def cancellation_category(self) -> str:
        """The category whose flags are visits that did not happen: counted per case in the digest and reports."""
        return self.case_rules.cancellations.category

    def severity_rank(self, severity: str) -> int:
        return self.severities.index(severity)

    def severities_from(self, severity: str) -> tuple[str, ...]:
        """`severity` and every severity above it."""
        return self.severities[self.severity_rank(severity):]

    def matcher(self, nlp: Language) -> tuple[Matcher, dict[str, tuple[str, str | None]]]:
        """A Matcher whose match ids map to (category, severity override)."""
        from spacy.matcher import Matcher

        matcher = Matcher(nlp.vocab, validate=True)
        keys = {}
        for index, (category, severity, pattern) in enumerate(self.patterns):
            key = f"{category}#{index}"
            matcher.add(key, [list(pattern)])
            keys[key] = (category, severity)
        return matcher, keys


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon at `path`, or the packaged one (parsed once per process)."""
    if path is None:
        return _default_lexicon()
    return _parse(parse_yaml(Path(path).read_text(encoding="utf-8")), str(path))


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    return _parse(read_yaml(PACKAGED), f"qualpipe/data/{PACKAGED}")


def _parse(data: dict, source: str) -> Lexicon:
    severities = tuple(data.get("severities") or ())
    if not severities:
        raise UserError(f"{source}: no severities; list them lowest first, as in qualpipe/data/{PACKAGED}")

    def severity_of(value, what: str) -> str:
        if value not in severities:
            raise UserError(f"{source}: {what} has severity {value!r}; use one of {severities}")
        return value

    categories, patterns = {}, []
    for cid, spec in (data.get("categories") or {}).items():
        severity = severity_of(spec.get("severity", severities[0]), f"category '{cid}'")
        categories[cid] = Category(cid, spec.get("label", cid), severity, spec.get("subject", "any"),
                                   spec.get("definition", ""), tuple(spec.get("examples", [])),
                                   urgent=bool(spec.get("urgent", False)), graded=bool(spec.get("graded", False)),
                                   separate_from=tuple(spec.get("separate_from", [])))
        for item in spec.get("patterns", []):
            override = item.get("severity")
            if override is not None:
                severity_of(override, f"a pattern of '{cid}'")
            patterns.append((cid, override, tuple(item["pattern"])))
    if not categories:
        raise UserError(f"{source}: no categories; see qualpipe/data/{PACKAGED}")
    for category in categories.values():
        for other in category.separate_from:
            if other not in categories:
                raise UserError(f"{source}: '{category.id}' is kept separate from unknown category '{other}'")
    return Lexicon(categories, tuple(patterns), tuple(data.get("ordinary", [])), severities,
                   _case_rules(data.get("case_rules") or {}, categories, severity_of, source))


def _case_rules(data: dict, categories: dict[str, Category], severity_of, source: str) -> CaseRules:
    def rule(name: str, kind, fields: tuple[str, ...]):
        spec = data.get(name)
        if not isinstance(spec, dict) or any(f not in spec for f in ("category", *fields, "severity")):
            raise UserError(f"{source}: case_rules needs '{name}' with category, {', '.join(fields)} and severity; "
                            f"see qualpipe/data/{PACKAGED}")
        if spec["category"] not in categories:
            raise UserError(f"{source}: case rule '{name}' names unknown category '{spec['category']}'")
        return kind(spec["category"], *(int(spec[f]) for f in fields),
                    severity_of(spec["severity"], f"case rule '{name}'"))

    return CaseRules(rule("cancellations", CancellationRule, ("within_days", "count")),
                     rule("worsening", WorseningRule, ("last_entries", "count")),
                     _watch_rule(data.get("watch"), source))


def _watch_rule(spec, source: str) -> WatchRule:
    """The `watch` case rule; a lexicon without one keeps the packaged defaults (a project's own copy of an older
    concerns file must not lose the closer reading)."""
    if spec is None:
        return WatchRule()
    try:
        rule = WatchRule(int(spec["within_days"]), float(spec["check_scale"]))
    except (TypeError, KeyError, ValueError):
        rule = None
    if rule is None or rule.within_days < 0 or not 0 < rule.check_scale <= 1:
        raise UserError(f"{source}: case rule 'watch' needs within_days (0 or more) and check_scale (above 0, at most "
                        f"1); see qualpipe/data/{PACKAGED}")
    return rule
