"""Concern flags for logbook entries: lexicon + context + embedding exemplars, one decision per category."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from spacy.language import Language

from qualpipe.embed.base import Embedder
from qualpipe.flagging.context import ContextRules
from qualpipe.flagging.lexicon import Lexicon, load_lexicon, severity_rank

URGENT_CATEGORIES = ("vold_overgreb", "selvskade")


@dataclass(frozen=True)
class Flag:
    """One concern in one entry: the sentence that says why, its offsets in the entry, and what fired."""

    category: str
    severity: str
    evidence: str
    start: int
    end: int
    fired_by: str
    score: float | None = None


class ExemplarDetector:
    """Nearest labelled exemplars. A sentence is flagged for a category when its best similarity to
    the category's examples beats its best similarity to ordinary, concern-free sentences (the
    lexicon's ordinary visits, the codebook's theme examples, neutral background) by `margin`.
    Urgent categories get a lower bar: missing one costs most.

    e5 cosines are compressed (unrelated Danish sentences score 0.85-0.9), so only the margin
    against ordinary text carries information; the margins were set on the sample corpus and are
    deliberately strict, because the lexicon carries most of the recall.
    """

    def __init__(self, lexicon: Lexicon, embedder: Embedder, *, margin: float = 0.035, urgent_margin: float = 0.03):
        self.lexicon = lexicon
        self.embedder = embedder
        self.margin = margin
        self.urgent_margin = urgent_margin

    def fit(self, ordinary: Sequence[str] | None = None) -> "ExemplarDetector":
        from qualpipe.coding.codebook import load_codebook
        from qualpipe.coding.zeroshot import background_sentences

        if ordinary is None:
            ordinary = [*self.lexicon.ordinary, *(e for c in load_codebook().codes for e in c.examples), *background_sentences()]
        self.categories_ = [c for c in self.lexicon.categories.values() if c.examples]
        self.exemplars_ = [self.embedder.encode(list(c.examples)) for c in self.categories_]
        self.ordinary_ = self.embedder.encode(list(ordinary))
        return self

    def detect(self, X: np.ndarray) -> list[list[tuple[str, float, str]]]:
        """Per sentence: (category, margin, nearest example) for every category it is flagged for."""
        ordinary = (X @ self.ordinary_.T).max(axis=1)
        out: list[list[tuple[str, float, str]]] = [[] for _ in range(len(X))]
        for category, exemplars in zip(self.categories_, self.exemplars_):
            sims = X @ exemplars.T
            lead = sims.max(axis=1) - ordinary
            margin = self.urgent_margin if category.id in URGENT_CATEGORIES else self.margin
            for i in np.flatnonzero(lead >= margin):
                out[i].append((category.id, float(lead[i]), category.examples[int(sims[i].argmax())]))
        return out


class ConcernFlagger:
    """Flags entries. Built once (loads patterns, embeds exemplars), used for any number of entries."""

    def __init__(self, nlp: Language, embedder: Embedder | None, lexicon: Lexicon | None = None):
        self.nlp = nlp
        self.lexicon = lexicon or load_lexicon()
        self.matcher, self.keys = self.lexicon.matcher(nlp)
        self.context = ContextRules()
        self.detector = ExemplarDetector(self.lexicon, embedder).fit() if embedder is not None else None
        self.embedder = embedder

    def flag_entries(self, texts: Sequence[str]) -> list[list[Flag]]:
        docs = list(self.nlp.pipe(texts))
        sentences = [[s for s in doc.sents if s.text.strip()] for doc in docs]
        # The lexicon and ConText run in a second thread while the sentences are embedded: ONNX Runtime
        # computes outside the GIL, so the pattern work takes the time the embedding leaves on the cores.
        with ThreadPoolExecutor(1, thread_name_prefix="qualpipe-lexicon") as pool:
            lexical = pool.submit(lambda: [self._lexicon_flags(doc) for doc in docs])
            detected = self._detect(sentences)
            lexical = lexical.result()
        return [self._decide(sents, hits, triggers, best)
                for sents, hits, (triggers, best) in zip(sentences, detected, lexical)]

    def _detect(self, sentences) -> list[list[list[tuple[str, float, str]]]]:
        """The exemplar detector's hits, per entry and sentence (none without an embedder)."""
        if self.detector is None:
            return [[[] for _ in sents] for sents in sentences]
        flat = [" ".join(s.text.split()) for sents in sentences for s in sents]
        hits = iter(self.detector.detect(self.embedder.encode(flat)) if flat else [])
        return [[next(hits) for _ in sents] for sents in sentences]

    def _lexicon_flags(self, doc):
        """The entry's ConText triggers, and its lexicon flags by category (the most severe match of each)."""
        triggers = self.context.triggers(doc)
        best: dict[str, Flag] = {}
        for match_id, start, end in self.matcher(doc):
            category, override = self.keys[self.nlp.vocab.strings[match_id]]
            spec = self.lexicon.categories[category]
            sentence = doc[start].sent
            if self.context.why_not(doc, sentence, start, end, category, spec.subject, triggers):
                continue
            text, s, e = _sentence_span(sentence)
            _keep(best, Flag(category, override or spec.severity, text, s, e, f"pattern '{doc[start:end].text}'"))
        return triggers, best

    def _decide(self, sentences, detector_hits, triggers, best: dict[str, Flag]) -> list[Flag]:
        """Lexicon flags first; the detector adds categories the lexicon did not find, unless ConText blocks them."""
        for sentence, hits in zip(sentences, detector_hits):
            for category, similarity, example in hits:  # similarity: the lead over ordinary text
                if category in best or self.context.sentence_blocked(sentence, triggers, category):
                    continue
                spec = self.lexicon.categories[category]
                text, s, e = _sentence_span(sentence)
                _keep(best, Flag(category, spec.severity, text, s, e, f"near example '{example}' (+{similarity:.3f})", round(similarity, 4)))
        flags = [self._entry_rules(f) for f in best.values()]
        return sorted(flags, key=lambda f: (-severity_rank(f.severity), f.start, f.category))

    @staticmethod
    def _entry_rules(flag: Flag) -> Flag:
        if flag.category in URGENT_CATEGORIES and flag.severity != "urgent":
            return replace(flag, severity="urgent")
        return flag


def _keep(best: dict[str, Flag], flag: Flag) -> None:
    """One flag per category: the most severe; an equally severe one adds what fired it."""
    current = best.get(flag.category)
    if current is None or severity_rank(flag.severity) > severity_rank(current.severity):
        best[flag.category] = flag
    elif flag.fired_by not in current.fired_by:
        best[flag.category] = replace(current, fired_by=f"{current.fired_by}; {flag.fired_by}")


def _sentence_span(sentence) -> tuple[str, int, int]:
    text = sentence.text
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    start = sentence.start_char + lead
    return stripped, start, start + len(stripped)
