"""Dev-split checks behind the concern detector's design (README, "Concern detection"): the test split is not read.

Usage: .venv/bin/python bench/concern_dev_checks.py [--corpus corpora/dev] [--C 8] [--halvings 10]

1. Dev halves: the sentence head alone, and with the whole-entry head blended in (the shipped mean of the two,
   and the max form shipped before the afternoon of 2026-11-30), trained on train without the retyped copies;
   thresholds chosen on one half of the dev cases (`choose_thresholds`, as training does, from dev alone) and
   scored on the other half, over random halvings, so no variant is judged on the entries it was calibrated on.
   Scores only: no lexicon, no ConText.
2. Retyped dev: the shipped detector, through `ConcernFlagger.flag_entries`, on the dev entries as written,
   with æ/ø/å typed as ae/oe/aa, in lower case without punctuation, and with a tenth of their longer words
   misspelt (`misspelt`: a letter left out, two swapped, one doubled or a neighbouring key).
3. A case under watch (the `watch` case rule): on the same dev halves, the shipped scoring's urgent entries shown
   at all (alert or check band) in the scored half, when the check thresholds of an entry's urgent categories
   are scaled down within some weeks after an urgent alert (by the scores) of its case, against the band's size.
4. Urgent alert thresholds from more positives: the shipped model's scores; each half's urgent thresholds chosen on
   dev's positives alone, or with the `reserve` split's urgent positives (never trained on) in the recall term
   (`choose_thresholds(..., more_positives=...)`, as training does); held-out F2 over the urgent categories,
   urgent entries alerted, false urgent entries per half, and how much the thresholds move between halves.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np

from qualpipe.engines import Engines
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.flagging.model import ConcernHead, entry_view, shipped_model_path
from qualpipe.flagging.training import (_subset, cached_features, choose_thresholds, entry_scores, evaluate,
                                        gold_matrix, head_outputs, load_corpus, positive_scores, retyped,
                                        sentence_proba)
from qualpipe.learning.head import LinearHead
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon()


def case_halves(cases, halvings: int):
    """(fit, score) masks: each of `halvings` seeded random halvings of the cases, both ways round."""
    cases = np.asarray(cases)
    names = sorted(set(cases))
    rng = np.random.default_rng(0)
    for _ in range(halvings):
        first = np.isin(cases, rng.permutation(names)[: len(names) // 2])
        yield first, ~first
        yield ~first, first


def halves_f1(P: np.ndarray, G: np.ndarray, cases: list[str], halvings: int) -> tuple[float, float, float]:
    """Micro F1 over the categories, urgent-entry recall of alerts and false urgent entries per half."""
    categories = list(LEXICON.category_ids)
    urgent = [categories.index(c) for c in LEXICON.urgent_categories]
    tp = fp = fn = u_tp = u_fn = u_fp = 0
    for fit, score in case_halves(cases, halvings):
        alert, _ = choose_thresholds(P[fit], G[fit], categories, LEXICON.urgent_categories)
        pred, gold = P[score] >= np.array([alert[c] for c in categories]), G[score]
        tp, fp, fn = tp + (pred & gold).sum(), fp + (pred & ~gold).sum(), fn + (~pred & gold).sum()
        got, want = pred[:, urgent].any(1), gold[:, urgent].any(1)
        u_tp, u_fn, u_fp = u_tp + (got & want).sum(), u_fn + (~got & want).sum(), u_fp + (got & ~want).sum()
    return 2 * tp / (2 * tp + fp + fn), u_tp / (u_tp + u_fn), u_fp / (2 * halvings)


def dev_halves(corpus: Path, C: float, halvings: int) -> None:
    nlp = load_nlp("")
    entries = [e for e in load_corpus(corpus) if e.split in ("train", "dev")]
    outputs = head_outputs(LEXICON.category_ids)
    data = cached_features(nlp, Engines().raw_embedder(), entries, outputs)
    pick = lambda split: [i for i, e in enumerate(entries) if e.split == split]  # noqa: E731
    train, dev = _subset(data, pick("train")), _subset(data, pick("dev"))
    head = ConcernHead(outputs, C=C, seed=13, embedder="e5-small-fast").fit_idf(train.texts)
    head.fit(train.X(head), train.Y)
    sentence_only = LinearHead.score(head, dev.texts, dev.vectors, dev.sizes)
    head.fit_entries(train.texts, train.vectors, train.sizes, gold_matrix(train.entries, outputs).astype(np.int8))
    texts, means = entry_view(dev.texts, dev.vectors, dev.sizes)
    n = len(LEXICON.category_ids)
    S = entry_scores(sentence_only, dev)[:, :n]
    E = head.entry_.score(texts, means, [1] * len(texts))[:, :n]
    B = entry_scores(sentence_proba(head, dev), dev)[:, :n]  # the shipped scoring: the mean of the two per sentence
    head.blend = "max"  # as shipped before the afternoon of 2026-11-30: the mean only where it raises a sentence
    before = entry_scores(sentence_proba(head, dev), dev)[:, :n]
    head.blend = "mean"
    G, cases = gold_matrix(dev.entries, LEXICON.category_ids), [e.case_id for e in dev.entries]
    print(f"dev halves ({len(dev.entries)} entries, {len(set(cases))} cases, C={C}, {halvings} halvings):")
    for name, P in (("sentence head alone", S), ("entry head alone", E), ("mean of the two (shipped)", B),
                    ("max(sentence, mean) (shipped before)", before)):
        f1, recall, false = halves_f1(P, G, cases, halvings)
        print(f"  {name:<42} micro F1 {f1:.3f}  urgent alerts recall {recall:.3f}  false urgent per half {false:.1f}")
    print("a case under watch (shipped scoring; urgent entries shown at all in the scored half; urgent check band):")
    days = np.array([dt.date.fromisoformat(e.date).toordinal() for e in dev.entries])
    for weeks, scale in ((0, 1.0), (4, 0.5), (4, 0.25), (8, 0.5), (8, 0.25), (8, 0.1), (12, 0.25)):
        shown, band = watch_halves(B, G, np.array(cases), days, weeks, scale, 2 * halvings)
        print(f"  within {weeks:>2} weeks, check x {scale:<4}: urgent entries shown {shown:.3f}, band {band:.3f}")


def watch_halves(P: np.ndarray, G: np.ndarray, cases: np.ndarray, days: np.ndarray, weeks: int, scale: float,
                 halvings: int) -> tuple[float, float]:
    """Share of the scored halves' urgent entries that get an urgent alert or check flag, and the share of entries
    in the urgent check band only, when an urgent alert of the case (by the scores) within `weeks` before an entry
    scales that entry's urgent check thresholds by `scale`."""
    categories = list(LEXICON.category_ids)
    urgent = [categories.index(c) for c in LEXICON.urgent_categories]
    shown = want = band = total = 0
    for fit, score in case_halves(cases, halvings):
        alert, check = choose_thresholds(P[fit], G[fit], categories, LEXICON.urgent_categories)
        A = np.array([alert[categories[k]] for k in urgent])
        C = np.array([check[categories[k]] for k in urgent])
        idx = np.flatnonzero(score)
        S, gold = P[idx][:, urgent], G[idx][:, urgent].any(1)
        alerted = (S >= A).any(1)
        watched = np.array([
            weeks > 0 and bool((alerted & (cases[idx] == cases[i]) & (days[idx] <= days[i])
                                & (days[idx] >= days[i] - 7 * weeks) & (idx != i)).any())
            for i in idx
        ])
        seen = (S >= np.where(watched[:, None], C * scale, C)).any(1)
        shown, want = shown + (seen & gold).sum(), want + gold.sum()
        band, total = band + (seen & ~alerted).sum(), total + len(idx)
    return shown / want, band / total


def reserve_thresholds(corpus: Path, halvings: int) -> None:
    nlp, embedder = load_nlp(""), Engines().raw_embedder()
    head = ConcernHead.load(shipped_model_path())
    categories = list(LEXICON.category_ids)
    outputs = head.categories
    corpus_entries = load_corpus(corpus)
    dev = cached_features(nlp, embedder, [e for e in corpus_entries if e.split == "dev"], outputs)
    reserve = cached_features(nlp, embedder, [e for e in corpus_entries if e.split == "reserve"], outputs)
    P = entry_scores(sentence_proba(head, dev), dev)[:, :len(categories)]
    R = positive_scores(head, reserve, outputs)[:, :len(categories)]
    G, cases = gold_matrix(dev.entries, categories), np.array([e.case_id for e in dev.entries])
    urgent = [categories.index(c) for c in LEXICON.urgent_categories]
    print(f"urgent alert thresholds, the shipped model on dev halves ({halvings} halvings; reserve: "
          f"{int((~np.isnan(R[:, urgent])).sum())} urgent positives):")
    for label, more in (("dev positives alone", None), ("dev and reserve positives", R)):
        tp = fp = fn = got_urgent = want_urgent = false_urgent = 0
        moved = {k: [] for k in urgent}
        for fit, score in case_halves(cases, halvings):
            alert, _ = choose_thresholds(P[fit], G[fit], categories, LEXICON.urgent_categories, more)
            pred = P[score][:, urgent] >= np.array([alert[categories[k]] for k in urgent])
            gold = G[score][:, urgent]
            for k in urgent:
                moved[k].append(alert[categories[k]])
            tp, fp, fn = tp + (pred & gold).sum(), fp + (pred & ~gold).sum(), fn + (~pred & gold).sum()
            got, want = pred.any(1), gold.any(1)
            got_urgent, want_urgent = got_urgent + (got & want).sum(), want_urgent + want.sum()
            false_urgent += (got & ~want).sum()
        f2 = 5 * tp / (5 * tp + 4 * fn + fp)
        spread = "  ".join(f"{categories[k]} {np.median(moved[k]):.2f} (sd {np.std(moved[k]):.2f})" for k in urgent)
        print(f"  {label:<27} held-out F2 {f2:.3f}  urgent entries alerted {got_urgent / want_urgent:.3f}  "
              f"false urgent per half {false_urgent / (2 * halvings):.1f}  thresholds {spread}")


def retyped_dev(corpus: Path) -> None:
    entries = [e for e in load_corpus(corpus) if e.split == "dev"]
    flagger = Engines().flagger()
    print(f"retyped dev ({len(entries)} entries), the shipped detector:")
    for kind in ("as written", "ascii", "plain", "typos"):
        texts = [e.text if kind == "as written" else retyped(e.text, kind, seed=i)[0] for i, e in enumerate(entries)]
        r = evaluate(entries, flagger.flag_entries(texts), LEXICON.category_ids)
        m, u = r["micro"], r["urgent"]
        print(f"  {kind:<12} P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}  urgent {u['tp']}/"
              f"{u['tp'] + u['fn']}, {u['check_only']} only in the check band, {u['fp']} false; "
              f"check band {r['check_entries']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    parser.add_argument("--C", type=float, default=8.0)
    parser.add_argument("--halvings", type=int, default=10)
    args = parser.parse_args()
    dev_halves(args.corpus, args.C, args.halvings)
    reserve_thresholds(args.corpus, 2 * args.halvings)
    retyped_dev(args.corpus)


if __name__ == "__main__":
    main()
