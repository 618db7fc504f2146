"""Fine-tuned top layers against the frozen encoder, for the concern head: trained on train, compared on dev.

Usage: .venv/bin/python bench/concern_finetune.py [--layers 4] [--epochs 3] [--keep PATH]

Both variants then fit the same concern head (logistic regression over the sentences' n-grams and vectors
in context) and choose thresholds on dev; the lines printed are dev figures only (the test split is not read).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qualpipe.embed.ort_backend import OrtE5Embedder
from qualpipe.engines import Engines
from qualpipe.flagging.finetune import finetune_top_layers, save_layers
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.flagging.model import ConcernHead
from qualpipe.flagging.training import (_subset, cached_features, choose_thresholds, entry_scores, evaluate, featurise,
                                        gold_matrix, head_outputs, lexical_view, load_corpus, predict, sentence_proba,
                                        with_high_labels)
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon()  # categories and urgent ones: qualpipe/data/concerns.da.yaml


def score(name, data_train, data_dev, outputs, view, flagger, C=0.5):
    head = ConcernHead(outputs, C=C, embedder=name).fit_idf(data_train.texts)
    head.fit(data_train.X(head), data_train.Y)
    proba = sentence_proba(head, data_dev)
    head.alert_, head.check_ = choose_thresholds(
        entry_scores(proba, data_dev),
        gold_matrix(with_high_labels(data_dev.entries), outputs),
        outputs,
        LEXICON.urgent_categories,
    )
    for mode in ("model", "union"):  # the lexicon's unconfirmed flags: never alerts, or alerts in every category
        head.info["lexicon_alerts"] = list(LEXICON.category_ids) if mode == "union" else []
        r = evaluate(data_dev.entries, predict(head, proba, data_dev, view, flagger), LEXICON.category_ids)
        m, u = r["micro"], r["urgent"]
        print(
            f"{name:<10} C={C} {mode:<6} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.3f} "
            f"urgent {u['tp']}/{u['tp'] + u['fn']} false {u['fp']} check {r['check_entries']}"
        )
        if mode == "model":
            print("   ", {c: round(v["f1"], 2) for c, v in r["per_category"].items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/concern_layers.npz"))
    args = parser.parse_args()
    nlp = load_nlp("")
    entries = [e for e in load_corpus(args.corpus) if e.split in ("train", "dev")]
    outputs = head_outputs(LEXICON.category_ids)
    frozen = Engines().raw_embedder()
    data = cached_features(nlp, frozen, entries, outputs)
    pick = lambda split: [i for i, e in enumerate(entries) if e.split == split]  # noqa: E731
    train, dev = _subset(data, pick("train")), _subset(data, pick("dev"))
    view, flagger = lexical_view(nlp, [e.text for e in dev.entries])
    for C in (0.1, 0.5):
        score("frozen", train, dev, outputs, view, flagger, C)

    texts = [" ".join(e.text[s:t].split()) for e, spans in zip(train.entries, train.spans) for s, t in spans]
    start = time.perf_counter()
    tensors = finetune_top_layers(texts, train.Y, layers=args.layers, epochs=args.epochs, progress=print)
    print(
        f"fine-tuned {args.layers} layers, {args.epochs} epochs, {len(texts)} sentences: "
        f"{time.perf_counter() - start:.0f} s"
    )
    save_layers(tensors, args.keep)
    tuned = OrtE5Embedder("int8", tuned=args.keep)
    tuned_data = featurise(nlp, tuned.encode, with_high_labels(entries), categories=outputs)
    for C in (0.1, 0.5, 2.0):
        score("tuned", _subset(tuned_data, pick("train")), _subset(tuned_data, pick("dev")), outputs, view, flagger, C)


if __name__ == "__main__":
    main()
