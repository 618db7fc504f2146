"""Person-name detection measured on DaN+ gold PER spans over UD Danish-DDT sentences.

Usage: .venv/bin/python bench/eval_pseudonymise.py [--split test|dev]

Recall: a gold PER span (either nesting layer) counts as found when every letter of it lies inside
a detected entity (for pseudonymisation any replacement removes it; "as PERSON" counts PERSON
entities only). Precision: detected PERSON spans that overlap a gold PER span. CPR numbers are not
in this data; their recall is tested on synthetic numbers in tests/privacy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from qualpipe.privacy.detect import find_personal_data

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "ddt_ner_merged"


def covered(span: tuple[int, int], entities, text: str) -> bool:
    letters = [i for i in range(*span) if text[i].isalpha()]
    return all(any(e.start <= i < e.end for e in entities) for i in letters)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    args = parser.parse_args(argv)
    records = [json.loads(line) for line in (DATA / f"ddt_danplus_{args.split}_spans.jsonl").read_text(encoding="utf-8").splitlines()]
    gold_total = found_any = found_person = predicted = predicted_true = 0
    start = time.perf_counter()
    for record in records:
        text = record["text"]
        entities = find_personal_data(text)
        people = [e for e in entities if e.kind == "PERSON"]
        gold = {(e["start"], e["end"]) for e in record["entities"] if e["label"] == "PER"}
        gold_total += len(gold)
        found_any += sum(covered(g, entities, text) for g in gold)
        found_person += sum(covered(g, people, text) for g in gold)
        predicted += len(people)
        predicted_true += sum(any(p.start < g[1] and g[0] < p.end for g in gold) for p in people)
    seconds = time.perf_counter() - start
    print(f"DaN+ PER spans on DDT {args.split}: {len(records)} sentences, {gold_total} gold person spans")
    print(f"name recall (removed by any entity): {found_any / gold_total:.3f}")
    print(f"name recall (as PERSON):             {found_person / gold_total:.3f}")
    print(f"PERSON precision:                    {predicted_true / predicted:.3f} ({predicted} detected)")
    print(f"throughput: {len(records) / seconds:.0f} sentences/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
