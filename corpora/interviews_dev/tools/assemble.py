"""Build turns.jsonl, labels.jsonl and agreement.json from writers/ and labels/.

labels/<WRITER>.primary.<ANNOTATOR>.jsonl holds every respondent turn's themes from one annotator;
labels/<WRITER>.double.<ANNOTATOR>.jsonl a second, independent annotator's themes for the drawn fifth;
labels/adjudicated.jsonl the decision for every double-labelled turn the two disagreed on. A turn's
label is the adjudicated one, else the (agreed) double one, else the primary one. Kappa per theme is
computed on the double-labelled turns before adjudication.

Usage: python corpora/interviews_dev/tools/assemble.py
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
THEMES = ("stabilitet", "barnets_eget_tempo", "genkendelighed_struktur", "inddragelse", "ressourcefokus",
          "relation", "frirum", "laering_udvikling")
SPLIT = {"T03": "test", "T07": "test", "T09": "test", "T05": "dev", "T11": "dev"}  # the rest: train


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def kappa(a: list[bool], b: list[bool]) -> float | None:
    n = len(a)
    if not n:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return None if expected == 1 else round((observed - expected) / (1 - expected), 3)


def main() -> None:
    turns = []
    for path in sorted((HERE / "writers").glob("T*.jsonl")):
        writer = path.stem
        for row in sorted(jsonl(path), key=lambda r: (r["interview_id"], int(r["turn"]))):
            turns.append(
                {
                    "turn_id": f"{row['interview_id']}-{int(row['turn']):02d}",
                    "interview_id": row["interview_id"],
                    "case_id": row["case_id"],
                    "date": row["date"],
                    "respondent": row["respondent"],
                    "turn": int(row["turn"]),
                    "speaker": row["speaker"],
                    "interviewer": bool(row["interviewer"]),
                    "writer": writer,
                    "split": SPLIT.get(writer, "train"),
                    "text": row["text"],
                }
            )
    primary, double = {}, {}
    for path in sorted(p for p in (HERE / "labels").glob("*.jsonl") if p.name != "adjudicated.jsonl"):
        target = primary if ".primary." in path.name else double
        for row in jsonl(path):
            themes = sorted(set(row["themes"]) & set(THEMES))
            target[row["turn_id"]] = themes
    adjudicated = {}
    if (HERE / "labels" / "adjudicated.jsonl").is_file():
        adjudicated = {r["turn_id"]: sorted(r["themes"]) for r in jsonl(HERE / "labels" / "adjudicated.jsonl")}
    labels, missing = [], []
    for t in turns:
        if t["interviewer"]:
            continue
        tid = t["turn_id"]
        if tid in adjudicated:
            labels.append({"turn_id": tid, "themes": adjudicated[tid], "label_source": "adjudicated"})
        elif tid in double and tid in primary and double[tid] == primary[tid]:
            labels.append({"turn_id": tid, "themes": primary[tid], "label_source": "double-agreed"})
        elif tid in primary and tid not in double:
            labels.append({"turn_id": tid, "themes": primary[tid], "label_source": "primary"})
        else:
            missing.append(tid)
    both = sorted(set(primary) & set(double))
    agreement = {
        "double_labelled_turns": len(both),
        "disagreements": sum(primary[t] != double[t] for t in both),
        "kappa": {c: kappa([c in primary[t] for t in both], [c in double[t] for t in both]) for c in THEMES},
        "any_theme_kappa": kappa([bool(primary[t]) for t in both], [bool(double[t]) for t in both]),
    }
    (HERE / "turns.jsonl").write_text(
        "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in turns), encoding="utf-8"
    )
    (HERE / "labels.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in labels), encoding="utf-8"
    )
    (HERE / "agreement.json").write_text(json.dumps(agreement, indent=1) + "\n", encoding="utf-8")
    respondent = sum(not t["interviewer"] for t in turns)
    print(
        f"{len(turns)} turns ({respondent} respondent), {len(labels)} labelled, "
        f"{len(missing)} unlabelled or to adjudicate"
    )
    if missing:
        (HERE / "labels" / "to_adjudicate.txt").write_text("\n".join(missing) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
