"""An evaluator's codes from CSV or JSONL, keyed by segment id: the `--learn` input besides .qdpx."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from qualpipe.errors import InputError
from qualpipe.store import insert_codings, utc_now


@dataclass
class HumanCodesReport:
    codings: int = 0
    reviewed: int = 0
    errors: list[str] = field(default_factory=list)


def read_human_codes(path: Path, default_coder: str) -> tuple[dict[tuple[int, str], set[str]], list[str]]:
    """{(segment id, coder): codes} — an empty set means "reviewed, no code" — and per-line errors.

    CSV: columns segment_id, code (empty for none) and optionally coder; one row per code.
    JSONL: {"segment_id" or "id": 12, "codes": ["relation", ...] or [{"code": ...}], "coder": ...}.
    """
    labels: dict[tuple[int, str], set[str]] = {}
    errors: list[str] = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                segment = int(record.get("segment_id", record.get("id")))
                codes = {c["code"] if isinstance(c, dict) else str(c) for c in record.get("codes", [])}
            except (json.JSONDecodeError, TypeError, ValueError, KeyError, AttributeError):
                errors.append(str(InputError(path, "needs a segment_id (or id) and a codes list", line=number)))
                continue
            labels.setdefault((segment, str(record.get("coder") or default_coder)), set()).update(codes)
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "segment_id" not in reader.fieldnames:
                raise InputError(
                    path, "needs a 'segment_id' column and a 'code' column (see 'qualpipe review --format csv')"
                )
            for number, row in enumerate(reader, start=2):
                try:
                    segment = int(row["segment_id"])
                except (TypeError, ValueError):
                    errors.append(str(InputError(path, "segment_id is not a number", row=number)))
                    continue
                key = (segment, (row.get("coder") or default_coder).strip())
                labels.setdefault(key, set())
                if (row.get("code") or "").strip():
                    labels[key].add(row["code"].strip())
    return labels, errors


def read_gold(path: Path) -> tuple[dict[int, set[str]], list[str]]:
    """Gold codes per segment (every coder's in the file together), and per-line errors."""
    labels, errors = read_human_codes(path, "gold")
    merged: dict[int, set[str]] = {}
    for (segment, _coder), codes in labels.items():
        merged.setdefault(segment, set()).update(codes)
    return merged, errors


def import_human_codes(store, codebook, path: Path, coder: str = "evaluator") -> HumanCodesReport:
    """An evaluator's codes (CSV or JSONL) stored as human codings of `codebook`'s codes."""
    labels, errors = read_human_codes(path, coder)
    report = HumanCodesReport(errors=errors)
    known = {r["id"]: (r["start"], r["end"]) for r in store.query("SELECT id, start, end FROM segments")}
    now = utc_now()
    rows, reviews = [], []
    for (segment, who), codes in sorted(labels.items()):
        if segment not in known:
            report.errors.append(f"{path}: segment {segment} is not in this project; use ids from 'qualpipe segments'")
            continue
        start, end = known[segment]
        for code in sorted(codes):
            found = codebook.find(code)
            if found is None:
                report.errors.append(
                    f"{path}: code '{code}' is not in the codebook; use one of {', '.join(codebook.ids)}"
                )
                continue
            rows.append((segment, found.id, None, "human", who, "import", start, end, now))
        reviews.append((segment, who, now))
    report.errors = list(dict.fromkeys(report.errors))
    with store.transaction() as conn:
        report.codings = insert_codings(conn, rows)
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO reviews (segment_id, coder, reviewed_at) VALUES (?,?,?)", reviews)
        report.reviewed = conn.total_changes - before
    return report
