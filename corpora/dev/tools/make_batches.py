"""Annotation batches for one writer's file: the primary batch (all entries, no author, case order) and
the entries drawn for double labelling (whole cases, about a fifth; standalone supplements: a fifth of
the entries). Seeded: the same writer file always gives the same draw.

Usage: python corpora/dev/tools/make_batches.py [--corpus DIR] V01 [V02 ...]
"""
import json
import random
import sys
from pathlib import Path

from corpus_dir import corpus_dir

HERE = corpus_dir()
SEED = 20261129


def read(writer: str) -> list[dict]:
    lines = (HERE / "writers" / f"{writer}.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return sorted(rows, key=lambda r: (r["case_id"], r["date"], r["entry_id"]))


def blind(row: dict) -> dict:
    return {k: row[k] for k in ("entry_id", "case_id", "date", "text")}


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(blind(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main(writers: list[str]) -> None:
    out = HERE / "batches"
    out.mkdir(exist_ok=True)
    for writer in writers:
        rows = read(writer)
        rng = random.Random(f"{SEED}-{writer}")
        cases = sorted({r["case_id"] for r in rows})
        if len(cases) < len(rows) / 2:  # case histories: draw whole cases
            drawn = set(rng.sample(cases, max(1, round(len(cases) / 5))))
            double = [r for r in rows if r["case_id"] in drawn]
        else:
            double = sorted(rng.sample(rows, max(1, round(len(rows) / 5))), key=lambda r: r["entry_id"])
        write(out / f"{writer}.primary.jsonl", rows)
        write(out / f"{writer}.double.jsonl", double)
        print(writer, len(rows), "entries,", len(double), "drawn for double labelling")


if __name__ == "__main__":
    main(sys.argv[1:])
