"""Which concern detector to ship: variants trained on the train split and compared on the dev split only.

Usage: .venv/bin/python bench/concern_experiments.py [--corpus corpora/dev]

The test split is never read here; `bench/eval_concerns.py` scores the chosen detector on it once.
Variants: the sentence representation (own vector / + neighbours / + entry mean), the regularisation
C, and how the lexicon joins (model alone, union, ConText veto). Each line: dev micro P/R/F1 per
(entry, category), urgent entries found and false urgent entries, check-band size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qualpipe.embed.registry import DEFAULT_MODEL
from qualpipe.engines import Engines
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.flagging.model import HASH_FEATURES, NGRAMS, ConcernHead
from qualpipe.flagging.training import (
    _subset,
    cached_features,
    choose_thresholds,
    entry_scores,
    evaluate,
    gold_matrix,
    head_outputs,
    lexical_view,
    load_corpus,
    predict,
    sentence_proba,
    with_high_labels,
)
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon()  # categories and urgent ones: qualpipe/data/concerns.da.yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    args = parser.parse_args()
    nlp = load_nlp("")
    embedder = Engines().raw_embedder()
    entries = [e for e in load_corpus(args.corpus) if e.split in ("train", "dev")]
    outputs = head_outputs(LEXICON.category_ids)
    data = cached_features(nlp, embedder, entries, outputs)
    train = _subset(data, [i for i, e in enumerate(entries) if e.split == "train"])
    dev = _subset(data, [i for i, e in enumerate(entries) if e.split == "dev"])
    view, flagger = lexical_view(nlp, [e.text for e in dev.entries])
    print(f"train {len(train.entries)} entries / {len(train.texts)} sentences; dev {len(dev.entries)} entries")

    def run(label: str, C: float, drop: str | None = None, modes=("model", "union")) -> ConcernHead:
        head = ConcernHead(outputs, C=C, embedder=DEFAULT_MODEL).fit_idf(train.texts)
        Xt, Xd = train.X(head), dev.X(head)
        if drop is not None:  # ablation: zero one part of the representation
            words = len(NGRAMS) * HASH_FEATURES
            cols = slice(0, words) if drop == "words" else slice(words, None)
            Xt, Xd = Xt.tolil(), Xd.tolil()
            Xt[:, cols], Xd[:, cols] = 0, 0
            Xt, Xd = Xt.tocsr(), Xd.tocsr()
        head.fit(Xt, train.Y)
        proba = head.predict_proba(Xd)
        head.alert_, head.check_ = choose_thresholds(
            entry_scores(proba, dev), gold_matrix(with_high_labels(dev.entries), outputs), outputs,
            LEXICON.urgent_categories,
        )
        for mode in modes:  # the lexicon's unconfirmed flags: never alerts, or alerts in every category
            head.info["lexicon_alerts"] = list(LEXICON.category_ids) if mode == "union" else []
            r = evaluate(dev.entries, predict(head, proba, dev, view, flagger), LEXICON.category_ids)
            m, u = r["micro"], r["urgent"]
            print(
                f"{label:<16} C={C:<4} {mode:<6} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.3f} "
                f"urgent {u['tp']}/{u['tp'] + u['fn']} false {u['fp']} check {r['check_entries']}"
            )
        return head

    for drop, label in ((None, "words+vectors"), ("words", "vectors only"), ("vectors", "words only")):
        for C in (0.5, 2.0, 8.0):
            run(label, C, drop)
    head = run("chosen", 2.0, None, ("union",))
    r = evaluate(dev.entries, predict(head, sentence_proba(head, dev), dev, view, flagger), LEXICON.category_ids)
    for c, v in r["per_category"].items():
        print(
            f"  {c:<22} tp {v['tp']:>3} fp {v['fp']:>3} fn {v['fn']:>3} F1 {v['f1']:.2f}  alert>={head.alert_[c]:.2f}"
        )


if __name__ == "__main__":
    main()
