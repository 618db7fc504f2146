"""Concern flags for logbook entries: lexicon + context + embedding exemplars, one decision per category."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from spacy.language import Language

from qualpipe.embed.base import Embedder
from qualpipe.flagging.context import ContextRules
from qualpipe.flagging.lexicon import Lexicon, load_lexicon
from qualpipe.flagging.model import ConcernHead
from qualpipe.flagging.reasons import Reasons, load_reasons


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
    band: str = "alert"  # "check": the detector is unsure; shown apart in the digest, never dropped
    reason: str = ""  # why, in the Danish a coordinator reads (qualpipe/data/reasons.da.yaml)
    watched: bool = False  # a check flag only the closer reading of a case under watch raised (the `watch` case rule)


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
            ordinary = [
                *self.lexicon.ordinary,
                *(e for c in load_codebook().codes for e in c.examples),
                *background_sentences(),
            ]
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
            margin = self.urgent_margin if category.urgent else self.margin
            for i in np.flatnonzero(lead >= margin):
                out[i].append((category.id, float(lead[i]), category.examples[int(sims[i].argmax())]))
        return out


class ConcernFlagger:
    """Flags entries. Built once (loads patterns, the learned head or the exemplars), used for any number of entries.

    With `model` (a ConcernHead; the default detector), the head scores every sentence in its entry's
    context and decides (`decide_entry`); the lexicon and ConText veto innocent senses, fill the check band
    and raise severities. Without it, the older lexicon + exemplar detector decides."""

    def __init__(
        self,
        nlp: Language,
        embedder: Embedder | None,
        lexicon: Lexicon | None = None,
        model: ConcernHead | None = None,
        reasons: Reasons | None = None,
        check_fraction: float | None = None,
    ):
        self.nlp = nlp
        self.check_fraction = CHECK_FRACTION if check_fraction is None else check_fraction
        self.lexicon = lexicon or load_lexicon()
        self.matcher, self.keys = self.lexicon.matcher(nlp)
        self.context = ContextRules()
        self.model = model
        if model is not None and embedder is None:
            raise ValueError("the learned concern detector needs its embedder")
        self.detector = (
            ExemplarDetector(self.lexicon, embedder).fit() if embedder is not None and model is None else None
        )
        self.embedder = embedder
        self.reasons = (reasons or load_reasons()).fit(embedder) if embedder is not None else None

    def flag_entries(self, texts: Sequence[str]) -> list[list[Flag]]:
        """Each entry's flags, read on its own (`flag_case_entries` reads it with its case's history)."""
        read = self._read(texts)
        if self.model is not None:
            return self._decide_learned(read, [False] * len(texts))
        sentences, vectors, lexical, _ = read
        detected = self._detect(sentences, vectors)
        return [
            self._explain(self._decide(sents, hits, triggers, best), sents, vecs)
            for sents, hits, (triggers, best, _), vecs in zip(sentences, detected, lexical, vectors)
        ]

    def flag_case_entries(self, texts: Sequence[str], cases: Sequence[str | None], dates: Sequence[str | None],
                          earlier: Sequence[tuple[str, str]] = ()) -> list[list[Flag]]:
        """Each entry's flags, read with its case's history: an entry dated within the `watch` rule's days after
        an urgent alert of its case (in `earlier`, (case, date) pairs of stored urgent alerts not dismissed, or
        in this batch, from another entry) is decided again as watched, from the same scores. Only entries with
        a case and a date."""
        if self.model is None:
            return self.flag_entries(texts)
        read = self._read(texts)
        flags = self._decide_learned(read, [False] * len(texts))
        rule = self.lexicon.case_rules.watch
        urgent = set(self.lexicon.urgent_categories)
        triggers: dict[str, list[tuple[dt.date, int]]] = {}
        for case, date in earlier:
            if case is not None and date:
                triggers.setdefault(case, []).append((_day(date), -1))
        for i, (case, date, entry_flags) in enumerate(zip(cases, dates, flags)):
            if case is not None and date and any(f.category in urgent and f.band == "alert" for f in entry_flags):
                triggers.setdefault(case, []).append((_day(date), i))
        watched = [
            case is not None and bool(date) and any(
                at != i and 0 <= (_day(date) - day).days <= rule.within_days for day, at in triggers.get(case, ()))
            for i, (case, date) in enumerate(zip(cases, dates))
        ]
        if any(watched):
            again = self._decide_learned(read, watched)
            flags = [again[i] if watch else entry_flags for i, (watch, entry_flags) in enumerate(zip(watched, flags))]
        return flags

    def _read(self, texts: Sequence[str]):
        """Sentences, their vectors per entry, the lexicon's flags and, with the learned head, its sentence
        probabilities: everything a decision reads."""
        docs = list(self.nlp.pipe(texts))
        sentences = [[s for s in doc.sents if s.text.strip()] for doc in docs]
        flat = [" ".join(s.text.split()) for sents in sentences for s in sents]
        sizes = [len(s) for s in sentences]
        learned = self.model is not None and bool(flat)

        # The lexicon, ConText and the learned head's n-gram features (they need the words only) are built
        # in a second thread while the sentences are embedded: ONNX Runtime computes outside the GIL, so
        # that work takes the time the embedding leaves on the cores.
        def words():
            return [self._lexicon_flags(doc) for doc in docs], self.model.prepare(flat, sizes) if learned else None

        with ThreadPoolExecutor(1, thread_name_prefix="qualpipe-lexicon") as pool:
            background = pool.submit(words)
            stacked = self.embedder.encode(flat) if self.embedder is not None and flat else None
            lexical, prepared = background.result()
        proba = None
        if self.model is not None:
            proba = (self.model.score(flat, stacked, sizes, prepared=prepared) if learned
                     else np.zeros((0, len(self.model.categories))))
        return sentences, _per_entry(stacked, sentences), lexical, proba

    def _decide_learned(self, read, watched: Sequence[bool]) -> list[list[Flag]]:
        sentences, vectors, lexical, proba = read
        out, at = [], 0
        scale = self.lexicon.case_rules.watch.check_scale
        for sents, vecs, (_, lexicon_best, vetoed), watch in zip(sentences, vectors, lexical, watched):
            block = proba[at : at + len(sents)]
            at += len(sents)
            flags = decide_entry(self.model, block, sents, lexicon_best, self.lexicon, vetoed, scale if watch else 1.0,
                                 self.check_fraction)
            out.append(self._explain(flags, sents, vecs))
        return out

    def _explain(self, flags: list[Flag], sentences, vectors) -> list[Flag]:
        """Each flag with its Danish reason, chosen by the evidence sentence."""
        if self.reasons is None or vectors is None:
            return [replace(f, reason=f.reason or self.lexicon_reason(f)) for f in flags]
        starts = [_sentence_span(s)[1] for s in sentences]
        explained = []
        for f in flags:
            index = max((i for i, s in enumerate(starts) if s <= f.start), default=0)
            reason = self.reasons.reason(f.category, vectors[index], f.band)
            if f.watched:
                reason = self.reasons.watched(reason, self.lexicon.case_rules.watch.within_days)
            explained.append(replace(f, reason=reason))
        return explained

    def lexicon_reason(self, flag: Flag) -> str:
        return load_reasons().default(flag.category, flag.band)

    def _detect(self, sentences, vectors) -> list[list[list[tuple[str, float, str]]]]:
        """The exemplar detector's hits, per entry and sentence (none without an embedder)."""
        if self.detector is None:
            return [[[] for _ in sents] for sents in sentences]
        return [self.detector.detect(v) if len(sents) else [] for sents, v in zip(sentences, vectors)]

    def _lexicon_flags(self, doc):
        """The entry's ConText triggers, its lexicon flags by category (the most severe match of each), and
        per category the sentences (by start offset) whose every match ConText set aside (negated,
        hypothetical, an innocent sense, resolved, someone else's), or that ConText sets aside as a whole."""
        triggers = self.context.triggers(doc)
        best: dict[str, Flag] = {}
        vetoed: dict[str, set[int]] = {}
        kept: dict[str, set[int]] = {}
        for match_id, start, end in self.matcher(doc):
            category, override = self.keys[self.nlp.vocab.strings[match_id]]
            spec = self.lexicon.categories[category]
            sentence = doc[start].sent
            text, s, e = _sentence_span(sentence)
            if self.context.why_not(doc, sentence, start, end, category, spec.subject, triggers):
                vetoed.setdefault(category, set()).add(s)
                continue
            kept.setdefault(category, set()).add(s)
            _keep(
                best,
                Flag(category, override or spec.severity, text, s, e, f"pattern '{doc[start:end].text}'"),
                self.lexicon,
            )
        # A sentence ConText reads as resolved, hypothetical or an innocent sense as a whole (guide rules 2-4)
        # sets aside the non-urgent categories it has no standing lexicon match for, model evidence included.
        for sentence in doc.sents:
            s = _sentence_span(sentence)[1]
            for category, spec in self.lexicon.categories.items():
                if spec.urgent or s in kept.get(category, set()):
                    continue
                if self.context.sentence_reading(sentence, triggers, category):
                    vetoed.setdefault(category, set()).add(s)
        return triggers, best, {c: starts - kept.get(c, set()) for c, starts in vetoed.items()}

    def _decide(self, sentences, detector_hits, triggers, best: dict[str, Flag]) -> list[Flag]:
        """Lexicon flags first; the detector adds categories the lexicon did not find, unless ConText blocks them."""
        for sentence, hits in zip(sentences, detector_hits):
            for category, similarity, example in hits:  # similarity: the lead over ordinary text
                if category in best or self.context.sentence_blocked(sentence, triggers, category):
                    continue
                spec = self.lexicon.categories[category]
                text, s, e = _sentence_span(sentence)
                fired = f"near example '{example}' (+{similarity:.3f})"
                _keep(best, Flag(category, spec.severity, text, s, e, fired, round(similarity, 4)), self.lexicon)
        flags = [_entry_rules(f, self.lexicon) for f in best.values()]
        return sorted(flags, key=lambda f: (-self.lexicon.severity_rank(f.severity), f.start, f.category))


def _day(date: str) -> dt.date:
    return dt.date.fromisoformat(date[:10])


def _entry_rules(flag: Flag, lexicon: Lexicon) -> Flag:
    if flag.category in lexicon.urgent_categories and flag.severity != "urgent":
        return replace(flag, severity="urgent")
    return flag


def _per_entry(stacked: np.ndarray | None, sentences) -> list[np.ndarray | None]:
    """Each entry's rows of the stacked sentence vectors (None per entry without vectors)."""
    if stacked is None:
        return [None] * len(sentences)
    bounds = np.cumsum([0, *(len(s) for s in sentences)])
    return [stacked[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _keep(best: dict[str, Flag], flag: Flag, lexicon: Lexicon) -> None:
    """One flag per category: the most severe; an equally severe one adds what fired it."""
    current = best.get(flag.category)
    if current is None or lexicon.severity_rank(flag.severity) > lexicon.severity_rank(current.severity):
        best[flag.category] = flag
    elif flag.fired_by not in current.fired_by:
        best[flag.category] = replace(current, fired_by=f"{current.fired_by}; {flag.fired_by}")


def _score_at(column: np.ndarray, starts: list[int], start: int) -> float:
    """The head's score of the sentence that holds character offset `start` (`starts`: the sentences' first
    offsets, ascending; 0 when no sentence holds it)."""
    i = bisect_right(starts, start) - 1
    return float(column[i]) if i >= 0 and len(column) else 0.0


def _sentence_span(sentence) -> tuple[str, int, int]:
    text = sentence.text
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    start = sentence.start_char + lead
    return stripped, start, start + len(stripped)


# How far below an urgent category's alert threshold the check band reaches, at least. The trained check threshold
# is the lowest dev positive's score; on held-out dev halves (91 dev urgent entries) it showed 0.954 of the urgent
# entries against 0.898 as alerts. Down to half the alert threshold, the halves showed 0.974, with 10.5% of entries
# in the band instead of 8.8% (README, "Concerns"; with 41 dev urgent entries: 0.988 against 0.929).
# A project sets its own with `[flagging] check_fraction`.
CHECK_FRACTION = 0.5


def check_band(head: ConcernHead, category: str, fraction: float = CHECK_FRACTION) -> float:
    """Where an urgent category's check band starts: its trained check threshold or `fraction` of its alert
    threshold, whichever is lower. An urgent lexicon hit is still confirmed as an alert at the trained check
    threshold only; the wider band shows more, it does not alert more."""
    return min(head.check_.get(category, 1.0), head.alert_.get(category, 1.0) * fraction)


def decide_entry(
    head: ConcernHead,
    proba: np.ndarray,
    sentences,
    lexicon_best: dict[str, Flag],
    lexicon: Lexicon,
    vetoed: dict[str, set[int]] | None = None,
    check_scale: float = 1.0,
    check_fraction: float = CHECK_FRACTION,
) -> list[Flag]:
    """One entry's flags from the head's sentence probabilities and the lexicon's flags.

    Per category: the head alerts at or above its threshold, with the best sentence as evidence. The rules
    veto what the guide says is no concern (rules 2-4): for the non-urgent categories, a sentence whose
    every lexicon match of the category ConText set aside (negated, hypothetical, an innocent sense,
    resolved) cannot be an alert's evidence; for the urgent ones ConText never silences the head, since
    "hun vil ikke leve mere" is a disclosure, not a negation. The model proposes and the rules confirm: an
    urgent category's lexicon flag (one ConText let stand) whose sentence the head scores at or above the
    check threshold is an alert, so a plain "far slog ham" between two calm sentences is not left to the
    check band by a score the calm context pulled down (on dev: no urgent entry gained, one false urgent
    more). Any other lexicon flag the head does not confirm is an alert for the categories the dev split
    chose (`head.info["lexicon_alerts"]`), and for the urgent categories otherwise goes to the check band,
    as do urgent scores between the band's floor (`check_band`) and the alert threshold (guide rule 10).
    Graded categories are 'high' when their severity output or a lexicon pattern says so. Guide rule 8: a category with
    `separate_from` (`mistrivsel`: neglect, violence, self-harm) is kept beside those only when another
    sentence shows it. `check_scale` (below 1 in a case under watch) lowers the urgent categories' check
    thresholds for the head's own check flags; what makes an alert is unchanged. `check_fraction`: how far below the
    alert threshold the band reaches (`check_band`)."""
    from_lexicon = set(head.info.get("lexicon_alerts", ()))
    columns = {c: k for k, c in enumerate(head.categories)}
    vetoed = vetoed or {}
    starts = [_sentence_span(s)[1] for s in sentences]
    flags: dict[str, Flag] = {}
    for category, spec in lexicon.categories.items():
        lexical = lexicon_best.get(category)
        k = columns.get(category)
        column = proba[:, k] if k is not None and len(proba) else np.zeros(len(sentences))
        blocked = set() if spec.urgent else vetoed.get(category, set())
        usable = [i for i in range(len(column)) if starts[i] not in blocked]
        best = max(usable, key=lambda i: column[i]) if usable else 0
        score = float(column[best]) if usable else 0.0  # every sentence set aside by ConText: no alert
        top = float(column.max()) if len(column) else 0.0
        floor = check_band(head, category, check_fraction)
        if k is not None and score >= head.alert_[category]:
            severity = spec.severity
            high = columns.get(f"{category}:high")
            if high is not None and float(proba[:, high].max()) >= head.alert_[f"{category}:high"]:
                severity = "high"
            if lexical is not None and lexicon.severity_rank(lexical.severity) > lexicon.severity_rank(severity):
                severity = lexical.severity
            text, s, e = _sentence_span(sentences[best])
            fired = f"model {score:.2f}" + (f"; {lexical.fired_by}" if lexical is not None else "")
            flags[category] = Flag(category, severity, text, s, e, fired, round(score, 4))
        elif lexical is not None and (category in from_lexicon or spec.urgent):
            # The model proposes, the rules confirm: an urgent pattern that ConText let stand, in a sentence the
            # head scores in its check band, is an alert; on its own, or with the head below the band, a check.
            at = _score_at(column, starts, lexical.start)
            if spec.urgent and at >= head.check_.get(category, 1.0):
                fired = f"model {at:.2f}; {lexical.fired_by}"
                flags[category] = replace(lexical, fired_by=fired, score=round(at, 4), band="alert")
            else:
                band = "alert" if category in from_lexicon else "check"
                flags[category] = replace(lexical, score=round(top, 4), band=band)
        elif k is not None and spec.urgent and top >= floor * check_scale:
            where = int(column.argmax())
            text, s, e = _sentence_span(sentences[where])
            watched = top < floor
            fired = f"model {top:.2f} ({'case under watch' if watched else 'usikker'})"
            flags[category] = Flag(
                category, spec.severity, text, s, e, fired, round(top, 4), band="check", watched=watched
            )
    for category, spec in lexicon.categories.items():
        flag = flags.get(category)
        if not spec.separate_from or flag is None or flag.band != "alert":
            continue
        serious = {flags[c].start for c in spec.separate_from if c in flags and flags[c].band == "alert"}
        if flag.start in serious:
            k = columns.get(category)
            others = [
                i
                for i in range(len(sentences))
                if starts[i] not in serious and k is not None and proba[i, k] >= head.alert_[category]
            ]
            if others:
                i = max(others, key=lambda i: proba[i, k])
                text, s, e = _sentence_span(sentences[i])
                flags[category] = replace(flag, evidence=text, start=s, end=e, score=round(float(proba[i, k]), 4))
            else:
                del flags[category]
    out = [_entry_rules(f, lexicon) for f in flags.values()]
    return sorted(out, key=lambda f: (f.band != "alert", -lexicon.severity_rank(f.severity), f.start, f.category))
