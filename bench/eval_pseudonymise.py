"""Person-name detection measured on DaN+ gold PER spans over UD Danish-DDT sentences.

Usage: .venv/bin/python bench/eval_pseudonymise.py [--split test|dev]

Recall: a gold PER span (either nesting layer) counts as found when every letter of it lies inside
a detected entity (for pseudonymisation any replacement removes it; "as PERSON" counts PERSON
entities only). Precision: detected PERSON spans that overlap a gold PER span.

Then every category on the sample corpus (gold: corpora/gold/personal_data.jsonl): recall as above
per category (found by an entity of the same kind), precision per kind of detected entity.
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
    records = [
        json.loads(line)
        for line in (DATA / f"ddt_danplus_{args.split}_spans.jsonl").read_text(encoding="utf-8").splitlines()
    ]
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
    corpus_categories()
    return 0


def corpus_texts() -> dict[str, str]:
    from qualpipe.config import LOGBOOK_FIELDS
    from qualpipe.ingest.decode import read_text_file
    from qualpipe.ingest.logbooks import read_logbook
    from qualpipe.ingest.transcripts import read_docx_text

    corpus = Path(__file__).resolve().parents[1] / "corpora"
    texts = {}
    for path in sorted((corpus / "logbooks").iterdir()):
        for row in read_logbook(path, {f: f for f in LOGBOOK_FIELDS})[0]:
            texts[f"logbook:{row.entry_id}"] = row.text
    for path in sorted((corpus / "interviews").iterdir()):
        texts[f"interview:{path.name}"] = read_docx_text(path) if path.suffix == ".docx" else read_text_file(path)[0]
    return texts


def corpus_categories() -> None:
    import tomllib
    from collections import Counter

    corpus = Path(__file__).resolve().parents[1] / "corpora"
    institutions = (
        tomllib.loads((corpus / "qualpipe.toml").read_text(encoding="utf-8")).get("privacy", {}).get("institutions", [])
    )
    texts = corpus_texts()
    gold_n, found, predicted, correct = Counter(), Counter(), Counter(), Counter()
    for line in (corpus / "gold" / "personal_data.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text = texts[record["document"]]
        entities = find_personal_data(text, institutions=institutions)
        for span in record["spans"]:
            gold_n[span["kind"]] += 1
            same_kind = [e for e in entities if e.kind == span["kind"]]
            found[span["kind"]] += covered((span["start"], span["end"]), same_kind, text)
        for e in entities:
            predicted[e.kind] += 1
            correct[e.kind] += any(
                e.start < s["end"] and s["start"] < e.end and s["kind"] == e.kind for s in record["spans"]
            )
    print(f"\nsample corpus ({len(texts)} documents), per category:")
    print(f"{'kind':<15}{'gold':>6}{'recall':>8}{'detected':>10}{'precision':>11}")
    for kind in ("PERSON", "CPR", "PHONE", "EMAIL", "ADDRESS", "POSTCODE_TOWN", "INSTITUTION"):
        recall = found[kind] / gold_n[kind] if gold_n[kind] else float("nan")
        precision = correct[kind] / predicted[kind] if predicted[kind] else float("nan")
        print(f"{kind:<15}{gold_n[kind]:>6}{recall:>8.3f}{predicted[kind]:>10}{precision:>11.3f}")


if __name__ == "__main__":
    sys.exit(main())
