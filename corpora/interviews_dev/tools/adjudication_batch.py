"""The double-labelled turns whose two codings differ, with context and both codings, for an adjudicator.

Usage: python tools/adjudication_batch.py NAME  (writes batches/adjudicate-NAME.jsonl; skips turns already adjudicated)
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(name: str) -> None:
    context = {r["turn_id"]: r for p in (HERE / "batches").glob("T*.primary.jsonl") for r in jsonl(p)}
    primary, double = {}, {}
    for path in sorted(p for p in (HERE / "labels").glob("*.jsonl") if p.name != "adjudicated.jsonl"):
        for row in jsonl(path):
            (primary if ".primary." in path.name else double)[row["turn_id"]] = sorted(row["themes"])
    done = set()
    if (HERE / "labels" / "adjudicated.jsonl").is_file():
        done = {r["turn_id"] for r in jsonl(HERE / "labels" / "adjudicated.jsonl")}
    rows = [{**context[t], "coding_1": primary[t], "coding_2": double[t]}
            for t in sorted(set(primary) & set(double)) if primary[t] != double[t] and t not in done]
    out = HERE / "batches" / f"adjudicate-{name}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(out, len(rows))


if __name__ == "__main__":
    main(sys.argv[1])
