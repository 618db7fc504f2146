"""Assemble the labelled development corpus from the writers' files and the annotators' labels.

Reads writers/*.jsonl (the text), labels/*.primary.jsonl (one annotator per writer file),
labels/double-*.jsonl (a second, independent annotator on about a fifth) and labels/adjudicated.jsonl
(decisions on every entry where the two disagreed). Writes:
- logbooks.jsonl: entry_id, case_id, date, author, writer, split, text
- labels.jsonl: entry_id, concerns [{category, severity, evidence, start, end}], themes, label_source
- agreement.json: Cohen's kappa per concern category, for "any concern", for "urgent" and per theme,
  on the double-labelled entries (before adjudication)

Usage: python corpora/dev/tools/assemble.py [--corpus corpora/probe_en]
"""
import json
import re
from collections import Counter
from pathlib import Path

from corpus_dir import corpus_dir

HERE = corpus_dir()
SPLITS = {
    # V57-V64 (2026-12-01): eight more dev writers, so that the urgent thresholds sit on more positives.
    "dev": ["V03", "V11", "V12", "V33", "V35", "V37", "V39", "V57", "V58", "V59", "V60", "V61", "V62", "V63", "V64"],
    "test": ["V04", "V09", "V15", "V34", "V36", "V38", "V40"],
    # Written and labelled like the others, not trained on: on the dev halves they did not help (datasheet).
    "reserve": ["S5", "S6", "S7", "S8"],
    # Writers who write English sentences (corpora/probe_en/, its own folder): evaluation only.
    "probe": ["V65", "V66", "V67", "V68", "V69", "V70", "V71"],
}  # every other writer (V01..V32, V41..V56, S1-S4) is train; V33-V40 are dev or test
CATEGORIES = [
    "aflysning",
    "mistrivsel",
    "omsorgssvigt",
    "vold_overgreb",
    "selvskade",
    "konflikt",
    "frivillig_belastning",
]
THEMES = [
    "stabilitet",
    "barnets_eget_tempo",
    "genkendelighed_struktur",
    "inddragelse",
    "ressourcefokus",
    "relation",
    "frirum",
    "laering_udvikling",
]
SEVERITY = {"vold_overgreb": "urgent", "selvskade": "urgent", "omsorgssvigt": "high"}  # fixed by the guide


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def split_of(writer: str) -> str:
    return next((s for s, ws in SPLITS.items() if writer in ws), "train")


def locate(text: str, evidence: str) -> tuple[int, int]:
    """Character offsets of the evidence in the text: exact, then ignoring case, then ignoring spacing."""
    if not evidence:
        return -1, -1
    at = text.find(evidence)
    if at < 0:
        at = text.lower().find(evidence.lower())
    if at >= 0:
        return at, at + len(evidence)
    pattern = r"\s+".join(re.escape(w) for w in evidence.split())
    m = re.search(pattern, text, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else (-1, -1)


def clean(label: dict) -> dict:
    """One concern per category, valid names, the guide's fixed severities."""
    concerns = {}
    for c in label.get("concerns", []):
        cat, sev = c.get("category"), c.get("severity")
        if cat not in CATEGORIES or sev not in ("urgent", "high", "watch"):
            continue
        sev = SEVERITY.get(cat, sev)
        if cat not in concerns or ["watch", "high", "urgent"].index(sev) > ["watch", "high", "urgent"].index(
            concerns[cat]["severity"]
        ):
            concerns[cat] = {"category": cat, "severity": sev, "evidence": c.get("evidence", "")}
    themes = [t for t in label.get("themes", []) if t in THEMES][:3]
    return {"concerns": list(concerns.values()), "themes": themes, "doubt": bool(label.get("doubt"))}


def kappa(a: list[bool], b: list[bool]) -> dict:
    n = len(a)
    if not n:
        return {"kappa": None, "agreement": None, "positives_a": 0, "positives_b": 0, "n": 0}
    agree = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n if n else 0.0, sum(b) / n if n else 0.0
    expected = pa * pb + (1 - pa) * (1 - pb)
    k = (agree - expected) / (1 - expected) if expected < 1 else 1.0
    return {"kappa": round(k, 3), "agreement": round(agree, 3), "positives_a": sum(a), "positives_b": sum(b), "n": n}


def main() -> None:
    entries = {}
    for path in sorted((HERE / "writers").glob("*.jsonl")):
        writer = path.stem
        for row in read(path):
            entries[row["entry_id"]] = {
                **{k: row[k] for k in ("entry_id", "case_id", "date", "author", "text")},
                "writer": writer,
                "split": split_of(writer),
            }
    primary = {}
    for path in sorted((HERE / "labels").glob("*.primary.jsonl")):
        for row in read(path):
            primary[row["entry_id"]] = clean(row)
    double = {}
    for path in sorted((HERE / "labels").glob("double-*.jsonl")):
        for row in read(path):
            double[row["entry_id"]] = clean(row)
    adjudicated_path = HERE / "labels" / "adjudicated.jsonl"
    adjudicated = {r["entry_id"]: clean(r) for r in read(adjudicated_path)} if adjudicated_path.is_file() else {}

    both = sorted(set(primary) & set(double))
    agreement = {"n": len(both), "per_category": {}, "per_theme": {}}
    for cat in CATEGORIES:
        a = [any(c["category"] == cat for c in primary[e]["concerns"]) for e in both]
        b = [any(c["category"] == cat for c in double[e]["concerns"]) for e in both]
        agreement["per_category"][cat] = kappa(a, b)
    agreement["any"] = kappa([bool(primary[e]["concerns"]) for e in both], [bool(double[e]["concerns"]) for e in both])
    agreement["urgent"] = kappa(
        [any(c["severity"] == "urgent" for c in primary[e]["concerns"]) for e in both],
        [any(c["severity"] == "urgent" for c in double[e]["concerns"]) for e in both],
    )
    for theme in THEMES:
        agreement["per_theme"][theme] = kappa(
            [theme in primary[e]["themes"] for e in both], [theme in double[e]["themes"] for e in both]
        )

    held_out = [e for e in both if entries[e]["split"] in ("dev", "test")]  # what the figures are measured on
    agreement["dev_and_test"] = {
        "n": len(held_out),
        "per_category": {
            cat: kappa([any(c["category"] == cat for c in primary[e]["concerns"]) for e in held_out],
                       [any(c["category"] == cat for c in double[e]["concerns"]) for e in held_out])
            for cat in CATEGORIES
        },
        "any": kappa([bool(primary[e]["concerns"]) for e in held_out], [bool(double[e]["concerns"]) for e in held_out]),
        "urgent": kappa([any(c["severity"] == "urgent" for c in primary[e]["concerns"]) for e in held_out],
                        [any(c["severity"] == "urgent" for c in double[e]["concerns"]) for e in held_out]),
    }

    def key(label: dict) -> tuple:
        return tuple(sorted((c["category"], c["severity"]) for c in label["concerns"]))

    disagreements = [e for e in both if key(primary[e]) != key(double[e])]
    agreement["concern_disagreements"] = len(disagreements)
    agreement["adjudicated"] = sum(e in adjudicated for e in disagreements)

    out_entries, out_labels, sources, unlocated = [], [], Counter(), 0
    for entry_id, entry in sorted(
        entries.items(), key=lambda kv: (kv[1]["writer"], kv[1]["case_id"], kv[1]["date"], kv[0])
    ):
        if entry_id in adjudicated and entry_id in disagreements:
            # adjudication decides the concerns; the themes stay the primary annotator's
            label, source = {**adjudicated[entry_id], "themes": primary[entry_id]["themes"]}, "adjudicated"
        elif entry_id in primary:
            label, source = primary[entry_id], "primary" if entry_id not in both else "double-agreed"
        else:
            continue
        sources[source] += 1
        concerns = []
        for c in label["concerns"]:
            start, end = locate(entry["text"], c["evidence"])
            if start < 0 and entry_id in double:  # the other annotator's evidence for the same category
                other = next((d for d in double[entry_id]["concerns"] if d["category"] == c["category"]), None)
                if other:
                    start, end = locate(entry["text"], other["evidence"])
            unlocated += start < 0
            concerns.append(
                {**c, "evidence": entry["text"][start:end] if start >= 0 else c["evidence"], "start": start, "end": end}
            )
        out_entries.append(entry)
        out_labels.append(
            {"entry_id": entry_id, "concerns": concerns, "themes": label["themes"], "label_source": source}
        )
    (HERE / "logbooks.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in out_entries), encoding="utf-8"
    )
    (HERE / "labels.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in out_labels), encoding="utf-8"
    )
    (HERE / "agreement.json").write_text(json.dumps(agreement, indent=2) + "\n", encoding="utf-8")

    stats = Counter()
    for e, label in zip(out_entries, out_labels):
        stats[(e["split"], "entries")] += 1
        stats[(e["split"], "with concern")] += bool(label["concerns"])
        stats[(e["split"], "urgent")] += any(c["severity"] == "urgent" for c in label["concerns"])
        for c in label["concerns"]:
            stats[(e["split"], c["category"])] += 1
    print(json.dumps({f"{s}/{k}": v for (s, k), v in sorted(stats.items())}, indent=1))
    print("label sources", dict(sources), "evidence not located", unlocated)
    print("kappa any", agreement["any"], "urgent", agreement["urgent"])
    print({c: v["kappa"] for c, v in agreement["per_category"].items()})
    held = agreement["dev_and_test"]
    print("dev and test writers:", held["n"], "entries; any", held["any"]["kappa"], "urgent", held["urgent"]["kappa"],
          {c: v["kappa"] for c, v in held["per_category"].items()})


if __name__ == "__main__":
    main()
