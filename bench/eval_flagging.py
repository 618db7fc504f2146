"""Concern flagging measured: per category, overall and urgent, on the sample corpus and a held-out set.

Usage: .venv/bin/python bench/eval_flagging.py

Units are (entry, category) pairs: a flag is a true positive when the gold has that category for
the entry, whatever the severity. "Urgent" is entry-level: does the entry get an urgent flag, and
should it. The sample corpus goes through the batch path with case rules (entries with case_id and
date); the lexicon, context rules and detector margins were set looking at it, so its figures are
optimistic. bench/data/heldout_concerns.jsonl was written afterwards; see its README for the one
rule changed after its first run.
Throughput: entries per second for the whole flagger (spaCy, patterns, context, embeddings), warm.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

from qualpipe.config import LOGBOOK_FIELDS
from qualpipe.engines import Engines
from qualpipe.flagging.batch import flag_batch
from qualpipe.flagging.flagger import ConcernFlagger
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.ingest.logbooks import read_logbook
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
LEXICON = load_lexicon()  # the categories scored: qualpipe/data/concerns.da.yaml


def corpus_items() -> list[dict]:
    gold = {}
    for line in (ROOT / "corpora" / "gold" / "logbook_labels.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        gold[record["entry_id"]] = record["concerns"]
    items = []
    for path in sorted((ROOT / "corpora" / "logbooks").iterdir()):
        rows, _ = read_logbook(path, {f: f for f in LOGBOOK_FIELDS})
        items += [
            {"id": r.entry_id, "case_id": r.case_id, "date": r.date, "text": r.text, "concerns": gold[r.entry_id]}
            for r in rows
        ]
    return items


def heldout_items() -> list[dict]:
    lines = (ROOT / "bench" / "data" / "heldout_concerns.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def run(flagger: ConcernFlagger, items: list[dict]) -> tuple[list[dict], float]:
    source = io.StringIO(
        "".join(json.dumps({k: v for k, v in i.items() if k != "concerns"}, ensure_ascii=False) + "\n" for i in items)
    )
    out = io.StringIO()
    start = time.perf_counter()
    flag_batch(flagger, Path("bench"), source, out, lambda m: None)
    seconds = time.perf_counter() - start
    return [json.loads(line) for line in out.getvalue().splitlines()], seconds


def score(items: list[dict], predicted: list[dict]) -> None:
    tp, fp, fn = Counter(), Counter(), Counter()
    urgent = Counter()
    for item, pred in zip(items, predicted):
        gold = {c["category"] for c in item["concerns"]}
        got = {c["category"] for c in pred["concerns"]}
        for category in gold & got:
            tp[category] += 1
        for category in got - gold:
            fp[category] += 1
        for category in gold - got:
            fn[category] += 1
        gold_urgent = any(c["severity"] == "urgent" for c in item["concerns"])
        got_urgent = any(c["severity"] == "urgent" for c in pred["concerns"])
        urgent[(gold_urgent, got_urgent)] += 1
    print(f"{'category':<22}{'gold':>6}{'flag':>6}{'P':>7}{'R':>7}{'F1':>7}")
    for category in LEXICON.category_ids:
        print(_line(category, tp[category], fp[category], fn[category]))
    print(_line("all categories", sum(tp.values()), sum(fp.values()), sum(fn.values())))
    u_tp, u_fp, u_fn = urgent[(True, True)], urgent[(False, True)], urgent[(True, False)]
    print(_line("urgent entries", u_tp, u_fp, u_fn))


def _line(name: str, tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp else 0.0
    return f"{name:<22}{tp + fn:>6}{tp + fp:>6}{p:>7.2f}{r:>7.2f}{f:>7.2f}"


def main() -> int:
    embedder = Engines().raw_embedder()
    flagger = ConcernFlagger(load_nlp(""), embedder)
    items = corpus_items()
    run(flagger, items[:10])  # warm-up
    predicted, seconds = run(flagger, items)
    print(f"sample corpus: {len(items)} entries, batch path with case rules; {len(items) / seconds:.1f} entries/s")
    score(items, predicted)
    held = heldout_items()
    predicted, _ = run(flagger, held)
    print(f"\nheld-out set: {len(held)} entries (bench/data/heldout_concerns.jsonl)")
    score(held, predicted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
