"""The double-labelled entries whose two labellings disagree on concerns (category and severity) and have not
been adjudicated yet, with both labellings, for an adjudicator (who sees the guide, the entry and both).

Usage: python corpora/dev/tools/adjudication_batch.py [--corpus DIR] NAME  (writes batches/adjudicate-NAME.jsonl)
"""
import json
import sys
from pathlib import Path

from corpus_dir import corpus_dir

HERE = corpus_dir()


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def key(label: dict) -> tuple:
    return tuple(sorted((c["category"], c["severity"]) for c in label.get("concerns", [])))


def main(name: str) -> None:
    entries = {r["entry_id"]: r for p in (HERE / "batches").glob("*.primary.jsonl") for r in read(p)}
    primary = {r["entry_id"]: r for p in (HERE / "labels").glob("*.primary.jsonl") for r in read(p)}
    double = {r["entry_id"]: r for p in (HERE / "labels").glob("double-*.jsonl") for r in read(p)}
    done = {r["entry_id"] for r in read(HERE / "labels" / "adjudicated.jsonl")}
    rows = [{**entries[e], "annotator_a": primary[e]["concerns"], "annotator_b": double[e]["concerns"]}
            for e in sorted(set(primary) & set(double)) if key(primary[e]) != key(double[e]) and e not in done]
    out = HERE / "batches" / f"adjudicate-{name}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(out, len(rows))


if __name__ == "__main__":
    main(sys.argv[1])
