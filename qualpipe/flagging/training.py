"""Training the concern detector: the labelled corpus, sentence labels from evidence spans, calibration on dev.

`qualpipe flag train` runs `train_concern_model`: read the corpus (corpora/dev: entries, labels and
the writer-disjoint split), split entries into sentences as the flagger does, embed them with the
default engine, fit the head on the train split (plus a project's coordinator feedback, weighted),
choose thresholds on the dev split, and save the weights. Same corpus, same seed: the same weights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from qualpipe.errors import UserError
from qualpipe.flagging.model import ConcernHead
from qualpipe.learning.head import REGULARISATION, choose_C, cpu_kind
from qualpipe.text.normalize import joined_with_offsets, retype

URGENT_RECALL_TARGET = 0.98
# A non-urgent category with fewer dev positives than this keeps the class-balanced head's own 0.5: a best-F1
# threshold over a handful of positives is noise (konflikt, 7 dev entries: 0.81, and a parent threatening to end
# the match was not flagged). On dev halves (README) this took konflikt F1 from 0.36 to 0.63.
MIN_DEV_POSITIVES = 10
FEEDBACK_WEIGHT = 20.0  # a coordinator's correction counts as much as this many corpus sentences


@dataclass(frozen=True)
class LabelledEntry:
    entry_id: str
    case_id: str
    writer: str
    split: str
    text: str
    # (category, severity, start, end); start/end = -1 where the evidence could not be located
    concerns: tuple[tuple[str, str, int, int], ...] = ()
    date: str = ""  # ISO; the case rules (and the `watch` rule) read a case's entries in date order


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise UserError(f"{path}:{number}: not a JSON line; fix or remove it") from None
    return rows


def load_corpus(root: Path) -> list[LabelledEntry]:
    """The labelled development corpus: `logbooks.jsonl` (with `writer` and `split`) and `labels.jsonl`."""
    root = Path(root)
    if not (root / "logbooks.jsonl").is_file() or not (root / "labels.jsonl").is_file():
        raise UserError(f"{root}: no logbooks.jsonl and labels.jsonl here; point --corpus at corpora/dev")
    labels = {r["entry_id"]: r for r in read_jsonl(root / "labels.jsonl")}
    entries = []
    for row in read_jsonl(root / "logbooks.jsonl"):
        label = labels.get(row["entry_id"])
        if label is None:
            continue
        concerns = tuple(
            (c["category"], c["severity"], c.get("start", -1), c.get("end", -1)) for c in label["concerns"]
        )
        entries.append(
            LabelledEntry(row["entry_id"], row["case_id"], row["writer"], row["split"], row["text"], concerns,
                          str(row.get("date") or ""))
        )
    return entries


# How each kind of writer retypes a training entry (`retype`'s settings); "typos" is `misspelt`.
_RETYPE_KINDS = {
    "plain": {"lower": True, "keep": ""},
    "ascii": {"spell_out": True},
    "plain-ascii": {"lower": True, "keep": "", "spell_out": True},
}


def retyped(text: str, kind: str, seed: int = 0) -> tuple[str, list[int]]:
    """`text` as another kind of writer types it ("ascii": æ/ø/å as ae/oe/aa; "plain": lower case without
    punctuation; "plain-ascii": both; "typos": a tenth of the longer words misspelt, `seed` choosing which and
    how), with where each offset of `text` went (len(text) + 1 of them)."""
    if kind == "typos":
        return misspelt(text, np.random.default_rng(seed))
    return retype(text, **_RETYPE_KINDS[kind])


TYPO_RATE = 0.1  # of the words of four letters or more
# Letters next to each other on a Danish keyboard, for a finger that slips to the side.
_ROWS = ("qwertyuiopå", "asdfghjklæø", "zxcvbnm")
_NEIGHBOURS = {row[i]: row[max(i - 1, 0):i] + row[i + 1:i + 2] for row in _ROWS for i in range(len(row))}


def misspelt(text: str, rng: np.random.Generator, rate: float = TYPO_RATE) -> tuple[str, list[int]]:
    """`text` with `rate` of its words of four letters or more misspelt once inside the word, as hurried or
    unsure writers do: a letter left out (most often), two letters swapped, a letter doubled, or a neighbouring
    key struck. The first and last letters stay. Returns the text and where each offset of `text` went."""
    pieces = list(text)
    for match in re.finditer(r"[^\W\d_]{4,}", text):
        if rng.random() >= rate:
            continue
        at = match.start() + int(rng.integers(1, len(match.group()) - 2))  # inside the word, with one after it inside
        op = ("drop", "drop", "swap", "double", "slip")[int(rng.integers(5))]
        ch = text[at]
        if op == "drop":
            pieces[at] = ""
        elif op == "double":
            pieces[at] = ch * 2
        elif op == "swap":
            pieces[at], pieces[at + 1] = text[at + 1], ch
        elif _NEIGHBOURS.get(ch.lower()):  # "slip"
            keys = _NEIGHBOURS[ch.lower()]
            key = keys[int(rng.integers(len(keys)))]
            pieces[at] = key.upper() if ch.isupper() else key
    return joined_with_offsets(pieces)


RETYPINGS = ("plain", "ascii", "plain-ascii", "typos")


def retyped_copies(entries: Sequence[LabelledEntry], seed: int) -> list[LabelledEntry]:
    """One copy of each training entry as a writer without æ/ø/å, without capitals and punctuation, both, or
    with spelling mistakes would type it (chosen per entry with `seed`), its evidence offsets carried over. On
    dev, entries retyped so lost 0.04 (ae/oe/aa) and 0.12 (plain) micro F1 and gave six times the false urgent
    alerts; with a tenth of the words misspelt, 2 of 41 urgent entries were no longer alerts (README)."""
    rng = np.random.default_rng(seed)
    copies = []
    for e in entries:
        kind = RETYPINGS[int(rng.integers(len(RETYPINGS)))]
        text, where = retyped(e.text, kind, seed=int(rng.integers(2**31)))
        if not text.strip() or text == e.text:  # nothing left, or nothing to retype (no æ/ø/å, no slip drawn)
            continue
        concerns = tuple((c, sev, where[a], where[b]) if a >= 0 else (c, sev, a, b) for c, sev, a, b in e.concerns)
        copies.append(replace(e, entry_id=f"{e.entry_id}~{kind}", text=text, concerns=concerns))
    return copies


def corpus_digest(entries: Sequence[LabelledEntry]) -> str:
    from qualpipe.learning.head import corpus_digest as digest

    return digest([e.entry_id, e.split, e.text, e.concerns] for e in entries)


@dataclass
class Featurised:
    """Sentences of a list of entries (text and vector, flat in entry order) and, for labelled entries,
    their labels; `owner` says which entry each sentence belongs to."""

    entries: list
    spans: list[list[tuple[int, int]]]
    texts: list[str]
    vectors: np.ndarray
    Y: np.ndarray | None = None
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    W: np.ndarray | None = None

    @property
    def sizes(self) -> list[int]:
        return [len(s) for s in self.spans]

    def X(self, head: ConcernHead):
        return head.features(self.texts, self.vectors, self.sizes)


def sentence_spans(nlp, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """Each text's non-empty sentences as (start, end) offsets, split and stripped exactly as the flagger
    does (an entry's sentences here must be the flagger's, one for one)."""
    from qualpipe.flagging.flagger import _sentence_span

    return [[_sentence_span(s)[1:] for s in doc.sents if s.text.strip()] for doc in nlp.pipe(texts)]


def featurise(
    nlp,
    embed: Callable[[list[str]], np.ndarray],
    entries: Sequence,
    text_of=lambda e: e.text,
    categories: Sequence[str] = (),
) -> Featurised:
    texts = [text_of(e) for e in entries]
    spans = sentence_spans(nlp, texts)
    flat = [" ".join(t[s:e].split()) for t, entry in zip(texts, spans) for s, e in entry]
    vectors = embed(flat) if flat else np.zeros((0, 384), np.float32)
    owner = np.repeat(np.arange(len(entries)), [len(s) for s in spans])
    data = Featurised(list(entries), spans, flat, vectors, owner=owner)
    if categories:
        data.Y = sentence_labels(entries, spans, categories)
    return data


def sentence_labels(entries: Sequence[LabelledEntry], spans, categories: Sequence[str]) -> np.ndarray:
    """A sentence is positive for a category when it overlaps that category's evidence; where the
    evidence could not be located, every sentence of the entry is."""
    index = {c: k for k, c in enumerate(categories)}
    rows = []
    for entry, entry_spans in zip(entries, spans):
        block = np.zeros((len(entry_spans), len(categories)), dtype=np.int8)
        for category, _, start, end in entry.concerns:
            if category not in index:
                continue
            hit = [i for i, (s, e) in enumerate(entry_spans) if start >= 0 and s < end and start < e]
            for i in hit or range(len(entry_spans)):
                block[i, index[category]] = 1
        rows.append(block)
    return np.concatenate(rows) if rows else np.zeros((0, len(categories)), np.int8)


def sentence_proba(head: ConcernHead, data: Featurised) -> np.ndarray:
    """The head's probabilities for every sentence of `data` (sentences x outputs), as the flagger scores them
    (with the whole-entry head blended in when the head has one)."""
    return head.score(data.texts, data.vectors, data.sizes) if data.texts else np.zeros((0, len(head.categories)))


def entry_scores(proba: np.ndarray, data: Featurised) -> np.ndarray:
    """Per entry and output: its best sentence's probability (0 for an entry without sentences)."""
    best = np.zeros((len(data.entries), proba.shape[1]), dtype=np.float32)
    for i in range(len(data.entries)):
        block = proba[data.owner == i]
        if len(block):
            best[i] = block.max(axis=0)
    return best


def gold_matrix(entries: Sequence[LabelledEntry], categories: Sequence[str]) -> np.ndarray:
    gold = np.zeros((len(entries), len(categories)), dtype=bool)
    for i, e in enumerate(entries):
        for category, *_ in e.concerns:
            if category in categories:
                gold[i, list(categories).index(category)] = True
    return gold


def choose_thresholds(
    scores: np.ndarray,
    gold: np.ndarray,
    categories: Sequence[str],
    urgent: Iterable[str],
    more_positives: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Per category on dev: the alert threshold with the best F1 (0.5 below MIN_DEV_POSITIVES); recall-first for
    the urgent categories (the best F2, which weighs recall twice), with a check band below it down to the
    highest threshold whose dev recall reaches URGENT_RECALL_TARGET, so what the alert threshold misses is shown
    to the coordinator as "check this" rather than dropped.

    `more_positives` (entries x categories, NaN where an entry is not a positive of that category): scores of
    urgent positives from outside dev (the corpus's `reserve`, never trained on). An urgent category's F2 then
    takes its recall as the mean of dev's and theirs, and its false alarms from dev alone, whose rates are
    realistic. Chosen on the dev halves (README): with dev's positives alone, `selvskade`'s threshold moved by
    0.28 (sd) between halves of dev, and held-out F2 was 0.79 against 0.83 with the reserve's."""
    urgent = set(urgent)
    alert, check = {}, {}
    grid = np.unique(np.clip(np.concatenate([np.linspace(0.02, 0.98, 97), scores.ravel()]), 0.02, 0.99))
    for k, category in enumerate(categories):
        s, g = scores[:, k], gold[:, k]
        if not g.any():
            alert[category] = check[category] = 0.99
            continue
        if category not in urgent and g.sum() < MIN_DEV_POSITIVES:
            alert[category] = check[category] = 0.5
            continue
        beta = 2.0 if category in urgent else 1.0
        extra = None if more_positives is None or category not in urgent else more_positives[:, k]
        extra = None if extra is None or np.isnan(extra).all() else extra[~np.isnan(extra)]
        fb = [_fbeta(s >= t, g, beta) if extra is None else _fbeta_pooled(s >= t, g, (extra >= t).mean(), beta)
              for t in grid]
        # midway among every score the choice saw, so it keeps the decisions on the other positives too
        seen = s if extra is None else np.concatenate([s, extra])
        alert[category] = check[category] = _midway(seen, float(grid[int(np.argmax(fb))]))
        if category in urgent:
            ok = [t for t in grid if (s[g] >= t).mean() >= URGENT_RECALL_TARGET]
            check[category] = float(min(alert[category], _midway(s, max(ok)))) if ok else alert[category]
    return alert, check


def _midway(scores: np.ndarray, threshold: float) -> float:
    """The threshold that keeps the same dev decisions as `threshold` with the widest margin: midway between the
    lowest dev score it lets through and the highest it holds back. A threshold chosen on a few dev positives
    otherwise sits right at one of their scores, where a change of 0.001 in the vectors flips a sentence."""
    above, below = scores[scores >= threshold], scores[scores < threshold]
    if not len(above):
        return threshold
    return float((above.min() + below.max()) / 2) if len(below) else float(above.min())


def _fbeta(predicted: np.ndarray, gold: np.ndarray, beta: float = 1.0) -> float:
    tp = float((predicted & gold).sum())
    b2 = beta * beta
    return (1 + b2) * tp / max(b2 * float(gold.sum()) + float(predicted.sum()), 1.0)


def _fbeta_pooled(predicted: np.ndarray, gold: np.ndarray, recall_elsewhere: float, beta: float) -> float:
    """F-beta on dev with its recall averaged with `recall_elsewhere` (the share of other positives found at the
    same threshold); precision's false alarms are dev's own."""
    positives = float(gold.sum())
    tp = positives * ((predicted & gold).sum() / positives + recall_elsewhere) / 2
    fp = float((predicted & ~gold).sum())
    b2 = beta * beta
    return (1 + b2) * tp / max(b2 * positives + tp + fp, 1.0)


def head_outputs(categories: Sequence[str]) -> tuple[str, ...]:
    """The head's outputs: one per category, then one per graded category (`graded: true` in
    concerns.da.yaml) for its 'high' severity."""
    from qualpipe.flagging.lexicon import load_lexicon

    return (*categories, *(f"{c}:high" for c in load_lexicon().graded_categories if c in categories))


def with_high_labels(entries: Sequence[LabelledEntry]) -> list[LabelledEntry]:
    """Entries whose graded 'high' concerns also appear as the pseudo-category 'CATEGORY:high'."""
    from qualpipe.flagging.lexicon import load_lexicon

    graded, out = load_lexicon().graded_categories, []
    for e in entries:
        extra = tuple((f"{c}:high", s, a, b) for c, s, a, b in e.concerns if c in graded and s == "high")
        out.append(replace(e, concerns=e.concerns + extra))
    return out


def cached_features(nlp, embedder, entries: Sequence[LabelledEntry], outputs: Sequence[str]) -> Featurised:
    """Featurise labelled entries, their sentence vectors from the training cache (learning.head.cached_embed)."""
    from qualpipe.learning.head import cached_embed

    return featurise(nlp, cached_embed(embedder, "concern-train"), with_high_labels(entries), categories=outputs)


@dataclass(frozen=True)
class Feedback:
    """A coordinator's decision about one entry and category (from the store's concern_labels)."""

    text: str
    category: str
    present: bool
    severity: str | None


def feedback_from_store(store) -> list[Feedback]:
    rows = store.query(
        "SELECT d.text, l.category, l.present, l.severity FROM concern_labels l "
        "JOIN documents d ON d.id = l.document_id ORDER BY l.document_id, l.category"
    )
    return [Feedback(r["text"], r["category"], bool(r["present"]), r["severity"]) for r in rows]


def feedback_features(nlp, embedder, feedback: Sequence[Feedback], outputs: Sequence[str]) -> Featurised:
    """Feedback as training rows: the decided category (and its 'high' output) weighted FEEDBACK_WEIGHT on
    every sentence of the entry; the other outputs weight 0 (unknown)."""
    data = featurise(nlp, embedder.encode, feedback)
    Y = np.zeros((len(data.texts), len(outputs)), np.int8)
    W = np.zeros((len(data.texts), len(outputs)), np.float32)
    for i, item in enumerate(feedback):
        rows = data.owner == i
        k = list(outputs).index(item.category)
        Y[rows, k], W[rows, k] = int(item.present), FEEDBACK_WEIGHT
        high = f"{item.category}:high"
        if high in outputs:
            j = list(outputs).index(high)
            Y[rows, j], W[rows, j] = int(item.present and item.severity == "high"), FEEDBACK_WEIGHT
    data.Y = Y
    data.W = W
    return data


@dataclass
class TrainingResult:
    head: ConcernHead
    dev: dict
    test: dict
    feedback: int = 0


def lexical_view(nlp, texts: Sequence[str]):
    """Per entry: its sentences (as the flagger splits them), ConText triggers and lexicon flags."""
    from qualpipe.flagging.flagger import ConcernFlagger

    lexicon_only = ConcernFlagger(nlp, None)
    out = []
    for doc in nlp.pipe(texts):
        sentences = [s for s in doc.sents if s.text.strip()]
        triggers, best, vetoed = lexicon_only._lexicon_flags(doc)
        out.append((sentences, triggers, best, vetoed))
    return out, lexicon_only


def predict(head: ConcernHead, proba: np.ndarray, data: Featurised, view, flagger) -> list[list]:
    """The learned detector's flags for featurised entries from their sentence probabilities (`sentence_proba`),
    decided as ConcernFlagger decides them."""
    from qualpipe.flagging.flagger import decide_entry

    out = []
    for i, (sentences, _, best, vetoed) in enumerate(view):
        block = proba[data.owner == i]
        out.append(decide_entry(head, block, sentences, best, flagger.lexicon, vetoed))
    return out


def evaluate(entries: Sequence[LabelledEntry], flags: Sequence[Sequence], categories: Sequence[str]) -> dict:
    """Per category and micro P/R/F1 over (entry, category) pairs; urgent recall at entry level with the
    number of false urgent entries; the check band's size and how many urgent entries only it holds."""
    stats = {c: [0, 0, 0] for c in categories}
    urgent = {"tp": 0, "fn": 0, "fp": 0, "check_only": 0}
    check_entries = 0
    for entry, entry_flags in zip(entries, flags):
        gold = {c for c, *_ in entry.concerns if c in stats}
        got = {f.category for f in entry_flags if f.band == "alert"}
        for c in categories:
            stats[c][0] += c in gold and c in got
            stats[c][1] += c in got and c not in gold
            stats[c][2] += c in gold and c not in got
        gold_urgent = any(s == "urgent" for _, s, *_ in entry.concerns)
        got_urgent = any(f.severity == "urgent" and f.band == "alert" for f in entry_flags)
        checked = any(f.band == "check" for f in entry_flags)
        check_entries += checked
        urgent["tp"] += gold_urgent and got_urgent
        urgent["fn"] += gold_urgent and not got_urgent
        urgent["fp"] += got_urgent and not gold_urgent
        urgent["check_only"] += gold_urgent and not got_urgent and checked
    tp, fp, fn = (sum(v[i] for v in stats.values()) for i in range(3))
    return {
        "per_category": {c: _prf(*v) for c, v in stats.items()},
        "micro": _prf(tp, fp, fn),
        "urgent": urgent,
        "check_entries": check_entries,
        "entries": len(entries),
    }


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}




def train_concern_model(
    corpus: Path,
    nlp,
    embedder,
    embedder_name: str,
    *,
    seed: int = 13,
    feedback: Sequence[Feedback] = (),
    progress: Callable[[str], None] = lambda message: None,
) -> TrainingResult:
    """Fit on the train split (and feedback) for each C, choose thresholds, the lexicon's role and C on dev,
    score test once with what was chosen."""
    from qualpipe.flagging.lexicon import load_lexicon

    categories = load_lexicon().category_ids
    # corpora/dev's "reserve" (urgent-rich standalone entries) is never trained on: its urgent positives help
    # place the urgent alert thresholds (`choose_thresholds`). A corpus may hold entries in other splits, unused.
    corpus_entries = [e for e in load_corpus(corpus) if e.split in ("train", "dev", "test", "reserve")]
    entries = corpus_entries + retyped_copies([e for e in corpus_entries if e.split == "train"], seed)
    outputs = head_outputs(categories)
    progress(f"{len(corpus_entries)} labelled entries and {len(entries) - len(corpus_entries)} retyped training "
             "copies; embedding their sentences")
    data = cached_features(nlp, embedder, entries, outputs)
    parts = {
        split: _subset(data, [i for i, e in enumerate(entries) if e.split == split])
        for split in ("train", "dev", "test", "reserve")
    }
    train, dev, test, reserve = parts["train"], parts["dev"], parts["test"], parts["reserve"]
    texts, vectors, sizes, Y, W = train.texts, train.vectors, train.sizes, train.Y, None
    entry_Y, entry_W = gold_matrix(train.entries, outputs).astype(np.int8), None
    if feedback:
        extra = feedback_features(nlp, embedder, feedback, outputs)
        W = np.vstack([np.ones_like(Y, dtype=np.float32), extra.W])
        texts, vectors, sizes = texts + extra.texts, np.vstack([vectors, extra.vectors]), sizes + extra.sizes
        Y = np.vstack([Y, extra.Y])
        # a decision is about the whole entry: each of its sentences carries the entry's label and weight
        entry_W = np.vstack([np.ones_like(entry_Y, dtype=np.float32), entry_scores(extra.W, extra)])
        entry_Y = np.vstack([entry_Y, entry_scores(extra.Y, extra).astype(np.int8)])
    whole = np.asarray(sizes) > 0  # the entry head reads the entries that have sentences
    dev_view, flagger = lexical_view(nlp, [e.text for e in dev.entries])
    candidates = []
    for C in REGULARISATION:
        progress(f"fitting the head on {len(train.entries)} entries ({len(texts)} sentences), C={C}")
        head = ConcernHead(outputs, C=C, seed=seed, embedder=embedder_name).fit_idf(texts)
        head.fit(head.features(texts, vectors, sizes), Y, W)
        head.fit_entries(texts, vectors, [n for n in sizes if n], entry_Y[whole],
                         None if entry_W is None else entry_W[whole])
        candidates.append(_calibrate(head, dev, dev_view, flagger, outputs, reserve))
    chosen = choose_C({h.C: (_urgent_recall(r) >= URGENT_RECALL_TARGET, r["micro"]["f1"]) for h, r in candidates})
    head, result = next(c for c in candidates if c[0].C == chosen)
    head.info = {
        "lexicon_alerts": head.info["lexicon_alerts"],
        "corpus": corpus_digest(corpus_entries),
        "dev": result["micro"],
        "dev_f1_by_C": {str(h.C): round(r["micro"]["f1"], 4) for h, r in candidates},
        "dev_urgent_alerts_by_C": {str(h.C): r["urgent"]["tp"] for h, r in candidates},
        "feedback_labels": len(feedback),
        "embedder_model_id": embedder.model_id,
        "cpu": cpu_kind(),
    }
    test_view, _ = lexical_view(nlp, [e.text for e in test.entries])
    flags = predict(head, sentence_proba(head, test), test, test_view, flagger)
    return TrainingResult(head, result, evaluate(test.entries, flags, categories), len(feedback))


def _calibrate(head: ConcernHead, dev: Featurised, view, flagger, outputs,
               reserve: Featurised | None = None) -> tuple[ConcernHead, dict]:
    """Thresholds on dev (the urgent categories' recall also on `reserve`'s positives); then, per category, whether
    the lexicon's flags the head does not confirm become alerts (where that raises the category's dev F1).
    Returns the head and its dev results."""
    from qualpipe.flagging.lexicon import load_lexicon

    lexicon = load_lexicon()
    categories = lexicon.category_ids
    proba = sentence_proba(head, dev)
    head.alert_, head.check_ = choose_thresholds(
        entry_scores(proba, dev),
        gold_matrix(with_high_labels(dev.entries), outputs),
        outputs,
        lexicon.urgent_categories,
        positive_scores(head, reserve, outputs) if reserve is not None and reserve.entries else None,
    )
    results = {}
    for chosen in ((), categories):
        head.info["lexicon_alerts"] = list(chosen)
        flags = predict(head, proba, dev, view, flagger)
        results[bool(chosen)] = evaluate(dev.entries, flags, categories)["per_category"]
    head.info["lexicon_alerts"] = [c for c in categories if results[True][c]["f1"] > results[False][c]["f1"]]
    return head, evaluate(dev.entries, predict(head, proba, dev, view, flagger), categories)


def positive_scores(head: ConcernHead, data: Featurised, outputs: Sequence[str]) -> np.ndarray:
    """Entry scores of `data` where the entry is a positive of the output, NaN elsewhere."""
    scores = entry_scores(sentence_proba(head, data), data)
    return np.where(gold_matrix(with_high_labels(data.entries), outputs), scores, np.nan)


def _urgent_recall(result: dict) -> float:
    """Urgent entries shown to the coordinator, as alerts or in the check band."""
    u = result["urgent"]
    return (u["tp"] + u["check_only"]) / (u["tp"] + u["fn"]) if u["tp"] + u["fn"] else 1.0


def _subset(data: Featurised, indices: list[int]) -> Featurised:
    """The entries at `indices` (in that order) with their sentences."""
    starts = np.concatenate([[0], np.cumsum(data.sizes)])
    rows = (
        np.concatenate([np.arange(starts[i], starts[i + 1]) for i in indices]).astype(int)
        if indices
        else np.zeros(0, int)
    )
    owner = np.repeat(np.arange(len(indices)), [len(data.spans[i]) for i in indices])
    return Featurised(
        [data.entries[i] for i in indices],
        [data.spans[i] for i in indices],
        [data.texts[r] for r in rows],
        data.vectors[rows],
        None if data.Y is None else data.Y[rows],
        owner,
    )


def default_corpus() -> Path:
    """corpora/dev of a source checkout (the corpus is not part of the installed package)."""
    root = Path(__file__).resolve().parents[2] / "corpora" / "dev"
    if not (root / "labels.jsonl").is_file():
        raise UserError("no labelled corpus here; pass --corpus PATH (corpora/dev of a qualpipe source checkout)")
    return root


def train_and_save(
    corpus: Path | None, output: Path, *, seed: int = 13, store=None, progress: Callable[[str], None] = lambda m: None
) -> TrainingResult:
    """Train on the corpus (plus `store`'s coordinator labels when given) and save the model at `output`."""
    from qualpipe.embed.registry import DEFAULT_MODEL
    from qualpipe.engines import Engines
    from qualpipe.text.nlp import load_nlp

    feedback = feedback_from_store(store) if store is not None else []
    if store is not None and not feedback:
        progress(
            "no coordinator decisions in this project yet (alerts dismiss / alerts add); training on the corpus alone"
        )
    embedder = Engines().raw_embedder()
    result = train_concern_model(
        corpus or default_corpus(),
        load_nlp(""),
        embedder,
        DEFAULT_MODEL,
        seed=seed,
        feedback=feedback,
        progress=progress,
    )
    result.head.info["test"] = result.test["micro"]
    result.head.save(output)
    return result
