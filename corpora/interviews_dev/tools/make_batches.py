"""Annotation batches for one interview writer's file: the primary batch (every respondent turn, with
the interviewer's question and the respondent's previous turn as context) and the double batch (the
respondent turns of a seeded fifth of the interviews, at least one interview). Writers' notes and
speaker names beyond the respondent's role are not passed on.

Usage: python corpora/interviews_dev/tools/make_batches.py T01 [T02 ...]
"""
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SEED = 20261129


def read(writer: str) -> list[dict]:
    lines = (HERE / "writers" / f"{writer}.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return sorted(rows, key=lambda r: (r["interview_id"], int(r["turn"])))


def turn_id(row: dict) -> str:
    return f"{row['interview_id']}-{int(row['turn']):02d}"


def blind_turns(rows: list[dict]) -> list[dict]:
    """Respondent turns with their context, in interview order."""
    out, question, previous, current = [], "", "", None
    for row in rows:
        if row["interview_id"] != current:
            question, previous, current = "", "", row["interview_id"]
        if row["interviewer"]:
            question, previous = row["text"], ""
            continue
        out.append({"turn_id": turn_id(row), "interview_id": row["interview_id"], "respondent": row["respondent"],
                    "question": question, "previous": previous, "text": row["text"]})
        previous = row["text"]
    return out


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main(writers: list[str]) -> None:
    out = HERE / "batches"
    out.mkdir(exist_ok=True)
    for writer in writers:
        turns = blind_turns(read(writer))
        interviews = sorted({t["interview_id"] for t in turns})
        drawn = set(random.Random(f"{SEED}-{writer}").sample(interviews, max(1, round(len(interviews) / 5))))
        double = [t for t in turns if t["interview_id"] in drawn]
        write(out / f"{writer}.primary.jsonl", turns)
        write(out / f"{writer}.double.jsonl", double)
        print(writer, len(turns), "respondent turns,", len(double), "drawn for double labelling")


if __name__ == "__main__":
    main(sys.argv[1:])
