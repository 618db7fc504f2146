"""A small Danish ConText: negation, hypotheticals, resolved past, innocent senses and other people.

Why our own component and not medspacy's ConText or negspacy: medspacy 1.3 pins spaCy 3.7 and
NumPy 1.x, which the rest of our stack has moved past, and negspacy covers negation only (on named
entities). The rules themselves are data: qualpipe/data/context.da.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from spacy.tokens import Doc, Span

from qualpipe.data import read_yaml


@dataclass(frozen=True)
class Trigger:
    rule: str
    phrase: str
    start: int  # token index in the doc
    end: int


def _phrases(values) -> list[tuple[str, ...]]:
    return [tuple(str(v).lower().split()) for v in values]


@lru_cache(maxsize=1)
def _rules() -> dict:
    return read_yaml("context.da.yaml")


def _inside(sentence: Span, triggers: list[Trigger]) -> list[Trigger]:
    """The triggers that lie wholly within `sentence`."""
    return [t for t in triggers if sentence.start <= t.start and t.end <= sentence.end]


class ContextRules:
    """Finds the triggers in a doc once; `why_not` says whether a concern match is to be dropped."""

    def __init__(self, rules: dict | None = None):
        rules = rules or _rules()
        self.terminators = set(rules["terminators"])
        self.negation_window = rules["negation"]["window"]
        self.hypothetical_window = rules["hypothetical"]["window"]
        self.hypothetical_not_for = set(rules["hypothetical"].get("not_for", []))
        self.other_window = rules["other_person"]["window"]
        self.other_applies = set(rules["other_person"]["applies_to"])
        self.first_person_applies = set(rules["first_person"]["applies_to"])
        self.first_person_window = rules["first_person"]["window"]
        self.children_window = rules["children"]["window"]
        self.children_applies = set(rules["children"]["applies_to"])
        self.phrases = {
            "negation": _phrases(rules["negation"]["triggers"]),
            "hypothetical": _phrases(rules["hypothetical"]["triggers"]),
            "historical": _phrases(rules["historical"]["triggers"]),
            "resolution": _phrases(rules["resolution"]["triggers"]),
            "other_person": _phrases(rules["other_person"]["triggers"]),
            "first_person": _phrases(rules["first_person"]["triggers"]),
            "children": _phrases(rules["children"]["triggers"]),
        }
        self.innocent = {category: _phrases(values) for category, values in rules["innocent"].items()}

    @cached_property
    def _by_first_word(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """Every trigger phrase, under its first word, in rule order."""
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        groups = list(self.phrases.items()) + [(f"innocent:{c}", p) for c, p in self.innocent.items()]
        for rule, phrases in groups:
            for phrase in phrases:
                if phrase:
                    index.setdefault(phrase[0], []).append((rule, phrase))
        return index

    def triggers(self, doc: Doc) -> list[Trigger]:
        words = [t.lower_ for t in doc]
        found = []
        for i, word in enumerate(words):
            for rule, phrase in self._by_first_word.get(word, ()):
                n = len(phrase)
                if tuple(words[i:i + n]) == phrase:
                    found.append(Trigger(rule, " ".join(phrase), i, i + n))
        return found

    def _clear_between(self, doc: Doc, start: int, end: int) -> bool:
        return not any(t.text.lower() in self.terminators for t in doc[start:end])

    def why_not(self, doc: Doc, sentence: Span, start: int, end: int, category: str, subject: str,
                triggers: list[Trigger]) -> str | None:
        """The rule that makes doc[start:end] not a concern for `category`, or None when it stands."""
        inside = _inside(sentence, triggers)
        for t in inside:
            if t.rule == "negation" and t.end <= start and start - t.end <= self.negation_window \
                    and self._clear_between(doc, t.end, start) and not (start <= t.start < end):
                return f"negation: {t.phrase}"
        for t in inside:
            if t.rule == "hypothetical" and t.end <= start and start - t.end <= self.hypothetical_window \
                    and category not in self.hypothetical_not_for:
                return f"hypothetical: {t.phrase}"
        for t in inside:
            if t.rule == f"innocent:{category}":
                return f"innocent sense: {t.phrase}"
        for t in inside:
            if t.rule == "resolution" and t.start >= end:
                return f"resolved: {t.phrase}"
        if any(t.rule == "historical" for t in inside):
            later = [t for t in triggers if t.rule == "resolution" and t.start >= sentence.start]
            if later:
                return f"resolved past: {later[0].phrase}"
        if category in self.other_applies:
            hit = self._just_before(doc, inside, "other_person", start, self.other_window)
            if hit:
                return f"someone else: {hit.phrase}"
        if category in self.children_applies:
            hit = self._just_before(doc, inside, "children", start, self.children_window)
            if hit:
                return f"between children: {hit.phrase}"
        if category in self.first_person_applies or subject == "volunteer":
            if not self._just_before(doc, inside, "first_person", start, self.first_person_window):
                return "not about the volunteer"
        return None

    def _just_before(self, doc: Doc, triggers: list[Trigger], rule: str, start: int, window: int) -> Trigger | None:
        """A trigger of `rule` ending at most `window` tokens before `start`, no terminator between."""
        for t in triggers:
            if t.rule == rule and t.end <= start and start - t.end <= window and self._clear_between(doc, t.end, start):
                return t
        return None

    def sentence_reading(self, sentence: Span, triggers: list[Trigger], category: str) -> Trigger | None:
        """The trigger by which ConText reads the whole sentence as no concern for `category` (guide rules 2-4:
        a hypothetical, an innocent sense, a resolved worry), or None."""
        inside = _inside(sentence, triggers)
        rules = [f"innocent:{category}", "resolution"]
        if category not in self.hypothetical_not_for:
            rules.insert(0, "hypothetical")
        for rule in rules:
            hit = next((t for t in inside if t.rule == rule), None)
            if hit:
                return hit
        return None

    def sentence_blocked(self, sentence: Span, triggers: list[Trigger], category: str) -> str | None:
        """Sentence-level rules for the embedding detector, which has no phrase position."""
        hit = self.sentence_reading(sentence, triggers, category)
        if hit:
            return f"{hit.rule.split(':')[0]}: {hit.phrase}"
        inside = _inside(sentence, triggers)
        if category in self.first_person_applies and not any(t.rule == "first_person" for t in inside):
            return "not about the volunteer"
        return None
