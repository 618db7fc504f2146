"""Concern detection measured on writers the detector never saw: old (lexicon) and new (learned) side by side.

Usage: .venv/bin/python bench/eval_concerns.py [--corpus corpora/dev] [--split test] [--writers V57,V58]
                                              [--bootstrap 2000]

Units: (entry, category) pairs for precision/recall/F1 (a flag is right when the gold has that category,
whatever the severity); "urgent" is per entry: does it get an urgent alert, and should it. The 95%
interval of urgent recall is a bootstrap over cases (entries of one case are not independent).
Both detectors run through the real `ConcernFlagger` paths: the learned one as the weekly run reads entries,
with their cases' history (`flag_case_entries`: the `watch` case rule), and once more entry by entry
(`flag_entries`) for what the case history adds; the old one entry by entry. The corpus's inter-annotator
agreement is read from corpora/dev/agreement.json (written by corpora/dev/tools/assemble.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from qualpipe.engines import Engines
from qualpipe.flagging.flagger import ConcernFlagger
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.flagging.training import LabelledEntry, evaluate, load_corpus
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon()  # the categories scored: qualpipe/data/concerns.da.yaml


def sample_entries() -> list[LabelledEntry]:
    """The sample corpus (corpora/logbooks + gold), as labelled entries."""
    sys.path.insert(0, str(ROOT / "bench"))
    from eval_flagging import corpus_items

    return [LabelledEntry(i["id"], i["case_id"], "sample", "sample", i["text"],
                          tuple((c["category"], c["severity"], -1, -1) for c in i["concerns"]), i["date"] or "")
            for i in corpus_items()]


def urgent_interval(entries, flags, rounds: int, seed: int = 0) -> tuple[float, float]:
    """Bootstrap (over cases) 95% interval of urgent recall."""
    by_case: dict[str, list[tuple[bool, bool]]] = {}
    for e, f in zip(entries, flags):
        gold = any(s == "urgent" for _, s, *_ in e.concerns)
        if gold:
            by_case.setdefault(e.case_id, []).append(
                (gold, any(x.severity == "urgent" and x.band == "alert" for x in f))
            )
    cases = list(by_case.values())
    if not cases or rounds < 1:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    recalls = []
    for _ in range(rounds):
        drawn = [cases[i] for i in rng.integers(0, len(cases), len(cases))]
        hits = [got for case in drawn for _, got in case]
        recalls.append(sum(hits) / len(hits))
    return float(np.percentile(recalls, 2.5)), float(np.percentile(recalls, 97.5))


def report(name: str, entries, flags, seconds: float, rounds: int) -> dict:
    result = evaluate(entries, flags, LEXICON.category_ids)
    u = result["urgent"]
    recall = u["tp"] / (u["tp"] + u["fn"]) if u["tp"] + u["fn"] else float("nan")
    low, high = urgent_interval(entries, flags, rounds)
    print(f"\n== {name}: {len(entries)} entries, {len(entries) / seconds:.1f} entries/s")
    print(f"{'category':<22}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>7}{'R':>7}{'F1':>7}")
    for category, v in result["per_category"].items():
        print(
            f"{category:<22}{v['tp']:>5}{v['fp']:>5}{v['fn']:>5}{v['precision']:>7.2f}{v['recall']:>7.2f}{v['f1']:>7.2f}"
        )
    m = result["micro"]
    print(
        f"{'micro (entry, category)':<22}{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}"
        f"{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}"
    )
    print(
        f"urgent entries: {u['tp']}/{u['tp'] + u['fn']} found, recall {recall:.2f} (95% CI {low:.2f}-{high:.2f}, "
        f"bootstrap over cases); {u['fp']} false urgent; check band: {result['check_entries']} entries "
        f"({u['check_only']} urgent entries found only there, {u['fn'] - u['check_only']} shown nowhere)"
    )
    return {
        "name": name,
        **result,
        "urgent_recall": recall,
        "urgent_ci": [low, high],
        "entries_per_s": len(entries) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpora" / "dev")
    parser.add_argument("--split", default="test")
    parser.add_argument("--writers", default="", help="only these writers of the split (comma-separated)")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    only = {w for w in args.writers.split(",") if w}
    entries = [e for e in load_corpus(args.corpus) if e.split == args.split and (not only or e.writer in only)]
    writers = sorted({e.writer for e in entries})
    print(
        f"corpus {args.corpus}, split {args.split}: {len(entries)} entries, {len({e.case_id for e in entries})} cases, "
        f"writers {', '.join(writers)}"
    )
    agreement = args.corpus / "agreement.json"
    if agreement.is_file():
        kappa = json.loads(agreement.read_text(encoding="utf-8"))
        print(
            "inter-annotator agreement (double-labelled entries): "
            + ", ".join(f"{c} {k['kappa']:.2f}" for c, k in kappa["per_category"].items())
            + f"; any concern {kappa['any']['kappa']:.2f}"
        )

    nlp = load_nlp("")
    old = ConcernFlagger(nlp, Engines().raw_embedder())
    new = Engines().flagger()
    figures = []
    for label, items in ((f"{args.split} split", entries), ("sample corpus (180 entries)", sample_entries())):
        runs = (
            ("old: lexicon + exemplars", old, lambda f: f.flag_entries([e.text for e in items])),
            ("new: learned + lexicon, entry by entry", new, lambda f: f.flag_entries([e.text for e in items])),
            ("new: learned + lexicon, with case history (the weekly run)", new, lambda f: f.flag_case_entries(
                [e.text for e in items], [e.case_id for e in items], [e.date for e in items])),
        )
        for name, flagger, flag in runs:
            flagger.flag_entries([items[0].text])  # warm
            start = time.perf_counter()
            flags = flag(flagger)
            figures.append(report(f"{label} · {name}", items, flags, time.perf_counter() - start, args.bootstrap))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
