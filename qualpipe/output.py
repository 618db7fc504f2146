"""Listings as a rich table, CSV or JSON Lines: every listing command offers all three."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any, Iterable, Sequence, TextIO


class Format(str, Enum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def _as_dict(row: Any) -> dict[str, Any]:
    return asdict(row) if is_dataclass(row) else dict(row)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> Any:
    """A cell a spreadsheet will show as text: a string that starts like a formula gets a leading
    apostrophe (OWASP's advice against CSV injection); other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_rows(
    rows: Iterable[Any], columns: Sequence[str], fmt: Format, out: TextIO | None = None, title: str | None = None
) -> None:
    out = out or sys.stdout
    records = [_as_dict(r) for r in rows]
    if fmt is Format.jsonl:
        for record in records:
            out.write(json.dumps({c: record.get(c) for c in columns}, ensure_ascii=False) + "\n")
    elif fmt is Format.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow(["" if record.get(c) is None else spreadsheet_text(record.get(c)) for c in columns])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for record in records:
            table.add_row(*("" if record.get(c) is None else str(record.get(c)) for c in columns))
        Console(file=out).print(table)


def write_status(summary, fmt: Format) -> None:
    """A store's counts (records.Status) as a listing: cases, documents and segments per kind, role and language."""
    rows = [("cases", "", summary.cases)]
    rows += [("documents", kind, n) for kind, n in sorted(summary.documents.items())]
    if summary.superseded_versions:
        rows.append(("superseded versions (kept)", "", summary.superseded_versions))
    rows += [("segments", f"kind={k}", n) for k, n in summary.segments_by_kind.items()]
    rows += [("segments", f"role={k}", n) for k, n in summary.segments_by_role.items()]
    rows += [("segments", f"language={k}", n) for k, n in summary.segments_by_language.items()]
    write_rows(
        [{"what": w, "group": g, "count": n} for w, g, n in rows],
        ["what", "group", "count"],
        fmt,
        title="qualpipe status",
    )
