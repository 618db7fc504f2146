"""Coded segments as CSV or XLSX: one row per coding, for spreadsheets and statistics tools."""

from __future__ import annotations

import csv
from pathlib import Path

from qualpipe.output import spreadsheet_text
from qualpipe.private_files import private_file

COLUMNS = [
    "case_id",
    "document",
    "kind",
    "role",
    "date",
    "code",
    "score",
    "source",
    "coder",
    "segment_id",
    "start",
    "end",
    "text",
]
WIDTHS = {
    "case_id": 10,
    "document": 34,
    "kind": 10,
    "role": 13,
    "date": 12,
    "code": 24,
    "score": 8,
    "source": 9,
    "coder": 14,
    "segment_id": 11,
    "start": 8,
    "end": 8,
    "text": 90,
}


def coded_rows(store, pseudonyms=None) -> list[dict]:
    """One row per coding of a current document; text pseudonymised when `pseudonyms` is given."""
    rows = store.query(
        "SELECT s.case_id, d.source_path AS document, d.kind, s.role, s.date, c.code, c.score, c.source, c.coder, "
        "s.id AS segment_id, c.start, c.end, d.text AS doc_text, d.id AS document_id FROM codings c "
        "JOIN segments s ON s.id = c.segment_id JOIN documents d ON d.id = s.document_id "
        "WHERE d.superseded_at IS NULL ORDER BY s.case_id, s.date, s.document_id, s.idx, c.source, c.score DESC, c.code"
    )
    out = []
    if pseudonyms is not None:
        pseudonyms.warm(r["case_id"] for r in rows)
    for r in rows:
        record = {k: r[k] for k in COLUMNS if k != "text"}
        if pseudonyms is not None:  # a file name often names the person interviewed: not shown
            record["document"] = f"{r['case_id'] or 'uden sag'} {r['kind']} {r['date'] or ''} (#{r['document_id']})"
            text, start, end = pseudonyms.span(r["document_id"], r["start"], r["end"])
            record["text"] = text[start:end]
        else:
            record["text"] = r["doc_text"][r["start"] : r["end"]]
        if record["score"] is not None:
            record["score"] = round(record["score"], 4)
        out.append(record)
    return out


def export_csv(store, path: Path, pseudonyms=None) -> int:
    rows = coded_rows(store, pseudonyms)
    with private_file(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: spreadsheet_text(v) for k, v in row.items()} for row in rows)
    return len(rows)


def export_xlsx(store, path: Path, pseudonyms=None) -> int:
    """A sheet with a frozen header row, filters on every column and widths that fit the content."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    rows = coded_rows(store, pseudonyms)
    book = Workbook()
    sheet = book.active
    sheet.title = "Kodninger"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # text that starts with "=" is the entry's text, never a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[column]
    for cell in sheet[get_column_letter(len(COLUMNS))][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    with private_file(path, "wb") as handle:
        book.save(handle)
    return len(rows)
