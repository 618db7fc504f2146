"""Person-name detection measured on DaN+ gold PER spans over UD Danish-DDT sentences.

Usage: .venv/bin/python bench/eval_pseudonymise.py [--split test|dev] [--lower]

Recall: a gold PER span (either nesting layer) counts as found when every letter of it lies inside
a detected entity (for pseudonymisation any replacement removes it; "as PERSON" counts PERSON
entities only). Precision: detected PERSON spans that overlap a gold PER span.

Also DaN+'s informal test sets (tweets and Arto web forum posts, PER spans of layer 1; the text is the
tokens joined by spaces, as the files hold no raw text). With --lower every text is typed in lower case
first (offsets unchanged), as a writer without capitals would.

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

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
DATA = EXTERNAL / "ddt_ner_merged"


def covered(span: tuple[int, int], entities, text: str) -> bool:
    letters = [i for i in range(*span) if text[i].isalpha()]
    return all(any(e.start <= i < e.end for e in entities) for i in letters)


def typed(text: str, lower: bool) -> str:
    if not lower:
        return text
    retyped = text.lower()
    assert len(retyped) == len(text), text  # Danish letters keep their length in lower case
    return retyped


def score_names(records: list[tuple[str, set[tuple[int, int]]]]) -> dict[str, float]:
    """Name recall (any entity, and PERSON only) and PERSON precision over (text, gold PER spans)."""
    gold_total = found_any = found_person = predicted = predicted_true = 0
    for text, gold in records:
        entities = find_personal_data(text)
        people = [e for e in entities if e.kind == "PERSON"]
        gold_total += len(gold)
        found_any += sum(covered(g, entities, text) for g in gold)
        found_person += sum(covered(g, people, text) for g in gold)
        predicted += len(people)
        predicted_true += sum(any(p.start < g[1] and g[0] < p.end for g in gold) for p in people)
    return {
        "gold": gold_total,
        "recall": found_any / gold_total,
        "recall_person": found_person / gold_total,
        "detected": predicted,
        "precision": predicted_true / predicted if predicted else float("nan"),
    }


def danplus_tsv(path: Path, lower: bool) -> list[tuple[str, set[tuple[int, int]]]]:
    """DaN+ CoNLL-style sentences (token, layer-1 tag, layer-2 tag) as texts with PER character spans."""
    records = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        text, gold, current = "", set(), None
        for line in block.splitlines():
            token, tag = line.split("\t")[:2]
            start = len(text) + (1 if text else 0)
            text = f"{text} {token}" if text else token
            if tag == "I-PER" and current is not None:
                current = (current[0], len(text))
                continue
            if current is not None:
                gold.add(current)
            current = (start, len(text)) if tag in ("B-PER", "I-PER") else None
        if current:
            gold.add(current)
        records.append((typed(text, lower), gold))
    return records


def print_scores(name: str, scores: dict[str, float]) -> None:
    print(
        f"{name:<34}{scores['gold']:>6}{scores['recall']:>9.3f}{scores['recall_person']:>11.3f}"
        f"{scores['detected']:>10}{scores['precision']:>11.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    parser.add_argument("--lower", action="store_true", help="type every text in lower case first")
    args = parser.parse_args(argv)
    records = [
        json.loads(line)
        for line in (DATA / f"ddt_danplus_{args.split}_spans.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    ddt = [
        (typed(r["text"], args.lower), {(e["start"], e["end"]) for e in r["entities"] if e["label"] == "PER"})
        for r in records
    ]
    start = time.perf_counter()
    scores = score_names(ddt)
    seconds = time.perf_counter() - start
    print(f"person names{' typed in lower case' if args.lower else ''}:")
    print(f"{'set':<34}{'gold':>6}{'recall':>9}{'as PERSON':>11}{'detected':>10}{'precision':>11}")
    print_scores(f"DaN+ news on DDT {args.split} ({len(ddt)} sents)", scores)
    for name in ("twitter", "arto"):
        informal = danplus_tsv(EXTERNAL / "danplus_ner" / f"da_{name}_{args.split}.tsv", args.lower)
        print_scores(f"DaN+ {name} {args.split} ({len(informal)} texts)", score_names(informal))
    print(f"throughput: {len(ddt) / seconds:.0f} sentences/s (DDT)")
    corpus_categories(args.lower)
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


def corpus_categories(lower: bool = False) -> None:
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
        text = typed(texts[record["document"]], lower)
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
    print(f"\nsample corpus ({len(texts)} documents{', typed in lower case' if lower else ''}), per category:")
    print(f"{'kind':<15}{'gold':>6}{'recall':>8}{'detected':>10}{'precision':>11}")
    for kind in ("PERSON", "CPR", "PHONE", "EMAIL", "ADDRESS", "POSTCODE_TOWN", "INSTITUTION"):
        recall = found[kind] / gold_n[kind] if gold_n[kind] else float("nan")
        precision = correct[kind] / predicted[kind] if predicted[kind] else float("nan")
        print(f"{kind:<15}{gold_n[kind]:>6}{recall:>8.3f}{predicted[kind]:>10}{precision:>11.3f}")


if __name__ == "__main__":
    sys.exit(main())
